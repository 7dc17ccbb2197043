"""The zoo's flat dataset format (one ``.npz``) and batching.

Per frame (F frames): ``n_atoms``, ``energy`` (eV), ``split`` (index into ``SPLITS``),
``temperature_K`` (NaN for perturbed frames), ``trajectory`` (per-molecule index, -1 for
perturbed), ``kind`` (index into ``KINDS``), ``molecule`` (index into the SMILES list).
Per atom (A = sum of n_atoms): ``numbers``, ``positions`` (Å), ``forces`` (eV/Å).
``meta`` holds the recipe, seeds and molecule list as a JSON string.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: What ``split`` and ``kind`` index.
SPLITS = ("train", "val", "test", "heldout")
KINDS = ("md", "displaced", "stretched")
FRAME_KEYS = ("n_atoms", "energy", "split", "temperature_K", "trajectory", "kind", "molecule")
ATOM_KEYS = ("numbers", "positions", "forces")


def merge_molecule_files(files: list[Path], out: Path, meta: dict[str, Any]) -> Path:
    """Concatenate per-molecule npz files into one dataset file (written atomically)."""
    parts = [dict(np.load(f)) for f in files]
    merged = {k: np.concatenate([p[k] for p in parts]) for k in FRAME_KEYS + ATOM_KEYS}
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta)), **merged)  # type: ignore[arg-type]
    os.replace(tmp, out)
    return out


@dataclass
class FrameSet:
    """Frames in flat arrays, with per-frame atom offsets."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> FrameSet:
        with np.load(path) as data:
            arrays = {k: data[k] for k in FRAME_KEYS + ATOM_KEYS}
            meta = json.loads(str(data["meta"])) if "meta" in data else {}
        return cls(arrays, meta)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, meta=np.array(json.dumps(self.meta)), **self.arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)

    @property
    def n_frames(self) -> int:
        return len(self.arrays["energy"])

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.arrays["n_atoms"])])

    def molecule_names(self) -> list[str]:
        return [m["name"] for m in self.meta.get("molecules", [])]

    def select(self, mask: np.ndarray) -> FrameSet:
        """The frames where ``mask`` (per frame) is true."""
        idx = np.flatnonzero(mask)
        off = self.offsets
        atom_idx = (
            np.concatenate([np.arange(off[i], off[i + 1]) for i in idx])
            if len(idx)
            else np.zeros(0, dtype=np.int64)
        )
        arrays = {k: self.arrays[k][idx] for k in FRAME_KEYS}
        arrays.update({k: self.arrays[k][atom_idx] for k in ATOM_KEYS})
        return FrameSet(arrays, self.meta)

    def split(self, name: str) -> FrameSet:
        return self.select(self.arrays["split"] == SPLITS.index(name))

    def elements(self) -> list[int]:
        return sorted({int(z) for z in np.unique(self.arrays["numbers"])})

    def batches(
        self,
        batch_size: int,
        *,
        rng: np.random.Generator | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> Iterator[Batch]:
        """Batches of ``batch_size`` frames, shuffled when ``rng`` is given."""
        order = rng.permutation(self.n_frames) if rng is not None else np.arange(self.n_frames)
        off = self.offsets
        for start in range(0, self.n_frames, batch_size):
            idx = order[start : start + batch_size]
            atom_idx = np.concatenate([np.arange(off[i], off[i + 1]) for i in idx])
            n_atoms = self.arrays["n_atoms"][idx]
            yield Batch(
                positions=torch.tensor(self.arrays["positions"][atom_idx], dtype=dtype),
                numbers=torch.tensor(self.arrays["numbers"][atom_idx], dtype=torch.long),
                system_index=torch.repeat_interleave(
                    torch.arange(len(idx)), torch.tensor(n_atoms, dtype=torch.long)
                ),
                n_atoms=torch.tensor(n_atoms, dtype=dtype),
                energy=torch.tensor(self.arrays["energy"][idx], dtype=dtype),
                forces=torch.tensor(self.arrays["forces"][atom_idx], dtype=dtype),
                kind=torch.tensor(self.arrays["kind"][idx], dtype=torch.long),
                frames=idx,
            )


@dataclass
class Batch:
    """One batch of frames in the TorchScript contract's flat layout, with teacher labels."""

    positions: torch.Tensor  # (N, 3) Å
    numbers: torch.Tensor  # (N,) int64
    system_index: torch.Tensor  # (N,) int64
    n_atoms: torch.Tensor  # (S,)
    energy: torch.Tensor  # (S,) eV
    forces: torch.Tensor  # (N, 3) eV/Å
    kind: torch.Tensor  # (S,) index into KINDS (md, displaced, stretched)
    frames: np.ndarray  # (S,) frame indices in the FrameSet

    @property
    def n_systems(self) -> int:
        return len(self.energy)
