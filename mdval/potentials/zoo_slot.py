"""``zoo:NAME``: the distilled students shipped in ``mdval/zoo/weights/``.

A zoo model is ``NAME.pt`` (TorchScript, the contract of :mod:`mdval.potentials.base`) plus
an optional card ``NAME.json`` (free-form metadata; ``name`` or ``display_name`` gives the
human name). This module only reads files: it does not import ``mdval.zoo``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry

ZOO_WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "zoo" / "weights"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def list_zoo(weights_dir: Path | None = None) -> list[str]:
    """Names of the zoo models present (``*.pt`` files), sorted."""
    folder = ZOO_WEIGHTS_DIR if weights_dir is None else weights_dir
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.pt") if p.is_file())


def read_card(path: Path) -> dict[str, Any]:
    """The model card at ``path`` ({} when absent); PotentialError when it is not a JSON object."""
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PotentialError(f"zoo card {path.name!r} is not valid JSON: {exc}") from exc
    if not isinstance(card, dict):
        raise PotentialError(f"zoo card {path.name!r} must hold a JSON object")
    return card


def resolve_zoo(name: str, weights_dir: Path | None = None) -> PotentialEntry:
    """The entry of ``zoo:<name>`` (``zoo:<name>?dtype=float32`` for the model in float32);
    PotentialError listing the zoo models if it is missing."""
    from mdval.potentials.torchscript_entry import split_dtype, torchscript_entry

    name, dtype = split_dtype(name)
    folder = ZOO_WEIGHTS_DIR if weights_dir is None else weights_dir
    present = list_zoo(folder)
    weights = folder / f"{name}.pt"
    if not _NAME.match(name) or not weights.is_file():
        listing = ", ".join(f"zoo:{n}" for n in present) if present else "none installed"
        raise PotentialError(f"no zoo model {name!r}; zoo models present: {listing}")
    card = read_card(folder / f"{name}.json")
    human = card.get("display_name") or card.get("name") or f"zoo:{name}"
    return torchscript_entry(
        weights, spec=f"zoo:{name}", kind="zoo", name=str(human), extra={"card": card}, dtype=dtype
    )
