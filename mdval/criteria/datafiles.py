"""Reading the data files that hold policy (criteria profiles, suites).

A data file is YAML (``.yaml``/``.yml``) or JSON (``.json``) whose top level is a mapping.
Every failure is an :class:`~mdval.errors.InputError` whose message names the file and the
problem, so that the person who wrote the file can fix it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mdval.errors import InputError

DATA_SUFFIXES = (".yaml", ".yml", ".json")


def builtin_names(directory: Path) -> list[str]:
    """Names (file stems) of the built-in data files in ``directory``, sorted."""
    return sorted(p.stem for p in directory.iterdir() if p.suffix in DATA_SUFFIXES)


def resolve(name_or_path: str | Path, *, directory: Path, kind: str) -> Path:
    """The file behind a built-in name or a path.

    A bare name (no directory part, no data suffix) is looked up among the built-ins in
    ``directory``; anything else is a path. ``kind`` ("profile", "suite") goes into messages.
    """
    text = str(name_or_path)
    candidate = Path(text)
    is_bare_name = (
        not isinstance(name_or_path, Path)
        and candidate.suffix not in DATA_SUFFIXES
        and len(candidate.parts) == 1
    )
    if is_bare_name:
        for suffix in DATA_SUFFIXES:
            path = directory / f"{text}{suffix}"
            if path.is_file():
                return path
        available = ", ".join(builtin_names(directory)) or "none"
        raise InputError(
            f"unknown {kind} {text!r}: built-in {kind}s are {available}; "
            f"or give the path of a .yaml/.json file"
        )
    if not candidate.is_file():
        raise InputError(f"{kind} file {text!r} does not exist")
    if candidate.suffix not in DATA_SUFFIXES:
        raise InputError(f"{kind} file {text!r}: expected a .yaml, .yml or .json file")
    return candidate


def read_mapping(path: Path, *, kind: str) -> dict[str, Any]:
    """Parse a YAML or JSON file whose top level must be a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{kind} file {str(path)!r} cannot be read: {exc}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{kind} file {str(path)!r} is not valid {_format(path)}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise InputError(
            f"{kind} file {str(path)!r}: the top level must be a mapping of fields, "
            f"got {type(data).__name__}"
        )
    return dict(data)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, each naming the field (``a.b.0.c``) and what is wrong."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)


def _format(path: Path) -> str:
    return "JSON" if path.suffix == ".json" else "YAML"
