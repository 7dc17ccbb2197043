"""Exit codes of every command, and bad input to exit code 2 with a one-line message.

0 pass · 1 fail · 2 bad input · 3 inconclusive · 4 internal error. An unexpected exception
is an internal error (4) with a one-line message, never a stack trace with code 1 (the code
of a failed verdict); set ``MDVAL_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from mdval.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])
stderr = Console(stderr=True)

EXIT_PASS, EXIT_FAIL, EXIT_INPUT, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4
_BY_VERDICT = {
    "pass": EXIT_PASS,
    "fail": EXIT_FAIL,
    "inconclusive": EXIT_INCONCLUSIVE,
    "protocol invalid": EXIT_INCONCLUSIVE,
}


def exit_code(verdict: str | None) -> int:
    """The exit code of a verdict (an unknown verdict is an internal error)."""
    return _BY_VERDICT.get(verdict or "", EXIT_INTERNAL)


def worst_exit_code(verdicts: list[str | None]) -> int:
    """One code for many verdicts: fail outranks inconclusive outranks pass."""
    codes = {exit_code(v) for v in verdicts}
    for code in (EXIT_INTERNAL, EXIT_FAIL, EXIT_INCONCLUSIVE):
        if code in codes:
            return code
    return EXIT_PASS


def exits_2_on_bad_input(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(EXIT_INPUT) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("MDVAL_DEBUG"):
                raise
            stderr.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
                "(MDVAL_DEBUG=1 shows the traceback)",
                highlight=False,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]
