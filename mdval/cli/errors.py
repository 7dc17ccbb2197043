"""Map bad input to exit code 2 with a one-line message; never a stack trace."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from mdval.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])
stderr = Console(stderr=True)

EXIT_PASS, EXIT_FAIL, EXIT_INPUT = 0, 1, 2


def exits_2_on_bad_input(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            stderr.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(EXIT_INPUT) from None

    return wrapper  # type: ignore[return-value]
