"""Finding and reading suites: built-in names or YAML/JSON files, validated on load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mdval.criteria.datafiles import builtin_names, describe_validation_error, read_mapping, resolve
from mdval.errors import InputError
from mdval.suites.expansion import expand_suite
from mdval.suites.schema import Suite

SUITES_DIR = Path(__file__).parent / "data"

# Stands in for the model while a suite is checked on load (the model is chosen at expand).
_PLACEHOLDER_MODEL = "suite-check"


def parse_suite(data: Any, *, source: str = "suite") -> Suite:
    """Validate a suite given as a mapping (e.g. a JSON body), including every run it makes.

    Errors are :class:`InputError` naming ``source`` and the field.
    """
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_validation_error(exc)}") from exc
    try:
        expand_suite(suite, model=_PLACEHOLDER_MODEL)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc
    return suite


def list_suites() -> list[str]:
    """Names of the built-in suites."""
    return builtin_names(SUITES_DIR)


def demo_suites() -> tuple[str, ...]:
    """Names of the built-in suites that are demo-sized (``demo: true``): their runs show how
    mdval judges and are no validation, so no overall view or recommendation counts them."""
    return tuple(name for name in list_suites() if load_suite(name).demo)


def load_suite(name_or_path: str | Path | Suite) -> Suite:
    """A built-in suite by name (``"m6-quick"``) or a suite file (``.yaml``/``.yml``/``.json``)."""
    if isinstance(name_or_path, Suite):
        return name_or_path
    path = resolve(name_or_path, directory=SUITES_DIR, kind="suite")
    if path.parent == SUITES_DIR:
        return _load_builtin(path)
    return _load_file(path)


@lru_cache(maxsize=16)
def _load_builtin(path: Path) -> Suite:
    return _load_file(path)


def _load_file(path: Path) -> Suite:
    return parse_suite(read_mapping(path, kind="suite"), source=f"suite file {str(path)!r}")
