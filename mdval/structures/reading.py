"""Structure files (any format ASE reads) and uploaded bytes, to clean ``ase.Atoms``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms

from mdval.errors import StructureError

#: Upload extensions and the ASE format each is read with. Uploads are restricted to these
#: (text formats and ASE's own JSON-based trajectory; nothing that unpickles).
UPLOAD_FORMATS: dict[str, str] = {
    ".xyz": "extxyz",
    ".extxyz": "extxyz",
    ".pdb": "proteindatabank",
    ".cif": "cif",
    ".traj": "traj",
    ".sdf": "sdf",
}


def clean_atoms(atoms: Atoms) -> Atoms:
    """A plain copy: numbers, positions, cell, pbc (and initial charges when non-zero).

    Calculator results, constraints, velocities and ``info`` of the file are dropped so that
    nothing from a file silently changes a run.
    """
    out = Atoms(
        numbers=np.asarray(atoms.numbers, dtype=int),
        positions=np.asarray(atoms.positions, dtype=np.float64),
        cell=np.asarray(atoms.cell.array, dtype=np.float64),
        pbc=np.asarray(atoms.pbc, dtype=bool),
    )
    if atoms.has("initial_charges"):
        charges = atoms.get_initial_charges()
        if np.any(charges != 0):
            out.set_initial_charges(charges)
    return out


def read_structure_file(path: str | os.PathLike[str], *, fmt: str | None = None) -> Atoms:
    """The first frame of the structure file ``path`` (format from the extension unless ``fmt``).

    Raises :class:`StructureError` naming the file for a missing file, a directory, an empty
    file or one ASE cannot read.
    """
    import ase.io

    p = Path(path)
    if not p.exists():
        raise StructureError(f"structure file not found: {str(p)!r}")
    if not p.is_file():
        raise StructureError(f"structure path is not a file: {str(p)!r}")
    if p.stat().st_size == 0:
        raise StructureError(f"structure file {p.name!r} is empty (0 bytes)")
    try:
        frame = ase.io.read(p, index=0, format=fmt)
    except Exception as exc:  # ASE raises anything from ValueError to StopIteration
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        reason = (
            f"{type(exc).__name__}: {text}" if text else f"the reader raised {type(exc).__name__}"
        )
        how = f"as {fmt}" if fmt else f"(format guessed from {p.suffix or 'its content'!r})"
        raise StructureError(
            f"could not read structure file {p.name!r} {how}; is it a valid structure "
            f"file of that format? ({reason})"
        ) from exc
    if not isinstance(frame, Atoms):  # index=0 gives one Atoms; be defensive anyway
        raise StructureError(f"structure file {p.name!r} holds no structure")
    return clean_atoms(frame)


def upload_format(filename: str) -> str:
    """The ASE format of an upload named ``filename``; StructureError for other extensions."""
    suffix = Path(filename).suffix.lower()
    fmt = UPLOAD_FORMATS.get(suffix)
    if fmt is None:
        accepted = ", ".join(sorted(UPLOAD_FORMATS))
        raise StructureError(
            f"cannot read upload {filename!r}: unknown extension {suffix or '(none)'!r}; "
            f"accepted: {accepted}"
        )
    return fmt


def read_structure_bytes(data: bytes, filename: str) -> Atoms:
    """Read uploaded bytes; the format is guessed from the extension of ``filename``."""
    fmt = upload_format(filename)
    name = Path(filename).name
    if not data:
        raise StructureError(f"structure file {name!r} is empty (0 bytes)")
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="mdval-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return read_structure_file(path, fmt=fmt)
        except StructureError as exc:
            # Name the user's file, not our temporary one.
            raise StructureError(str(exc).replace(repr(path.name), repr(name))) from exc
