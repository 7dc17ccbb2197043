"""From a potential spec string to a :class:`PotentialEntry`.

=====================  ===================================================================
spec                   potential
=====================  ===================================================================
``gfn2-xtb``           GFN2-xTB through tblite (the reference/teacher), see ``xtb.py``
``emt``                ASE's EMT, fcc metals Al Cu Ag Au Ni Pd Pt
``lj``                 Lennard-Jones toy, any element, see ``classical.py``
``zoo:NAME``           a model shipped in ``mdval/zoo/weights/NAME.pt``
``path/to/model.pt``   a TorchScript file (``.pt``/``.pth``), contract in ``base.py``
``…?dtype=float32``    either of the two with the model in float32 (default float64)
``py:module:factory``  an allow-listed Python factory of an ASE calculator
``ani:1x`` ...         a published model family, options after ``?`` (``families/``)
=====================  ===================================================================

Families: ``ani:1x|2x|1ccx``, ``sevennet:7net-0|PATH.pth``, ``chgnet:0.3.0|PATH.pth.tar``,
``mace:PATH.model``, ``orb:PATH.ckpt``, ``fairchem:PATH.pt`` (see docs/potentials.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry

TORCHSCRIPT_SUFFIXES = (".pt", ".pth")
ACCEPTED_FORMS = (
    "gfn2-xtb, emt, lj, zoo:<name>, a TorchScript file path (*.pt), "
    "py:<module>:<factory> (allow-listed), or a model family: ani:1x, sevennet:7net-0, "
    "chgnet:0.3.0, mace:<file.model>, orb:<file.ckpt>, fairchem:<file.pt>"
)


def _builtin_makers() -> dict[str, Callable[[str], PotentialEntry]]:
    from mdval.potentials.classical import emt_entry, lj_entry
    from mdval.potentials.xtb import xtb_entry

    return {"gfn2-xtb": xtb_entry, "emt": emt_entry, "lj": lj_entry}


BUILTIN_POTENTIALS = ("gfn2-xtb", "emt", "lj")


def resolve_potential(spec: str) -> PotentialEntry:
    """The registry entry of ``spec``; :class:`PotentialError` naming the problem otherwise.

    Built-in names are matched case-insensitively. Resolving a file-based spec (TorchScript
    path, zoo model) loads and checks the file once; the result is cached by path and mtime.
    """
    text = spec.strip()
    lowered = text.lower()
    makers = _builtin_makers()
    if lowered in makers:
        return makers[lowered](lowered)
    if lowered.startswith("zoo:"):
        from mdval.potentials.zoo_slot import resolve_zoo

        return resolve_zoo(text[len("zoo:") :].strip())
    from mdval.potentials.families import family_entry, is_family_spec

    if is_family_spec(text):
        return family_entry(text)
    if lowered.startswith("py:"):
        from mdval.potentials.pyfactory import py_entry

        return py_entry(text)
    base = text.partition("?")[0] if not Path(text).is_file() else text
    path = Path(base).expanduser()
    if path.suffix.lower() in TORCHSCRIPT_SUFFIXES:
        from mdval.potentials.torchscript_entry import split_dtype, torchscript_entry

        base, dtype = split_dtype(text) if base != text else (text, "float64")
        if not path.is_file():
            raise PotentialError(f"TorchScript file not found: {base!r}")
        return torchscript_entry(path, spec=base, dtype=dtype)
    raise PotentialError(f"unknown potential {text!r}; accepted: {ACCEPTED_FORMS}")
