"""Teacher data: GFN2-xTB (tblite) Langevin MD at 100-600 K plus displaced and stretched frames.

Each molecule is one work unit cached as ``<out>/molecules/NN_name.npz``, so an interrupted
run resumes and workers run in parallel. Trajectories, not frames, are assigned to splits:

========== ===================================================================
molecule   trajectories (split: temperatures in K)
========== ===================================================================
core       train: 100, 250, 400, 600 · val: 350 · test: 300, 500
           + extra train: 24 trajectories at 100-600 K from GFN2-xTB minima
           + extra train: 30 trajectories at 100-600 K from fresh RDKit conformers
train      train: 100, 250, 400, 600 · val: 350
heldout    heldout: 300, 500 (never trained on)
========== ===================================================================

Train molecules also get displaced (Gaussian noise on all atoms) and stretched (one bond
scaled) copies of random train-trajectory frames, labelled ``train``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mdval.zoo.dataset import KINDS, SPLITS, merge_molecule_files
from mdval.zoo.molecules import MoleculeSpec, bonds, embed, read_smiles_list


@dataclass(frozen=True)
class TeacherConfig:
    """Every policy number of the teacher-data recipe (recorded in the dataset's metadata)."""

    seed: int = 20240601
    timestep_fs: float = 0.5
    friction_per_fs: float = 0.02
    equilibration_steps: int = 200
    frames_per_trajectory: int = 100
    stride_steps: int = 8
    train_temperatures_K: tuple[float, ...] = (100.0, 250.0, 400.0, 600.0)
    val_temperatures_K: tuple[float, ...] = (350.0,)
    test_temperatures_K: tuple[float, ...] = (300.0, 500.0)
    n_displaced: int = 50
    displacement_sigma_A: tuple[float, float] = (0.03, 0.12)
    n_stretched: int = 50
    stretch_factor: tuple[float, float] = (0.85, 1.35)
    #: Extra training trajectories of the core molecules, started from GFN2-xTB minima.
    #: The first six came with phase 2 of the shipped students, the other 18 with phase 3;
    #: each was appended, so no earlier frame or seed changed.
    core_extra_temperatures_K: tuple[float, ...] = (
        *(150.0, 300.0, 300.0, 450.0, 600.0, 600.0),
        *(100.0, 200.0, 250.0, 350.0, 400.0, 500.0, 550.0, 200.0, 300.0),
        *(400.0, 500.0, 600.0, 250.0, 350.0, 450.0, 550.0, 300.0, 500.0),
    )
    #: Extra training trajectories of the core molecules, each from its own RDKit conformer
    #: (seeded by its trajectory number, like the base plan's); added with phase 4 of the
    #: shipped Original and appended after the relaxed extras, so no earlier frame changed.
    core_extra_embedded_temperatures_K: tuple[float, ...] = (
        *(100.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0, 450.0, 500.0, 550.0, 600.0),
        *(150.0, 250.0, 300.0, 350.0, 400.0, 450.0, 500.0, 550.0, 600.0),
        *(200.0, 250.0, 300.0, 350.0, 400.0, 450.0, 500.0, 550.0, 300.0, 500.0),
    )
    relax_fmax_eV_per_A: float = 0.05
    method: str = "GFN2-xTB"
    accuracy: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)


def _calculator(cfg: TeacherConfig) -> Any:
    from tblite.ase import TBLite

    return TBLite(method=cfg.method, verbosity=0, accuracy=cfg.accuracy)


def trajectory_plan(spec: MoleculeSpec, cfg: TeacherConfig) -> list[tuple[str, float]]:
    """(split, temperature_K) of every MD trajectory of one molecule."""
    if spec.role == "heldout":
        return [("heldout", t) for t in cfg.test_temperatures_K]
    plan = [("train", t) for t in cfg.train_temperatures_K]
    plan += [("val", t) for t in cfg.val_temperatures_K]
    if spec.role == "core":
        plan += [("test", t) for t in cfg.test_temperatures_K]
    return plan


def _label(atoms: Any) -> tuple[float, np.ndarray]:
    energy = float(atoms.get_potential_energy())
    forces = np.array(atoms.get_forces(), dtype=np.float64)
    return energy, forces


Frame = tuple[np.ndarray, float, np.ndarray, int, float, int, int]


def _md_frames(
    spec: MoleculeSpec,
    index: int,
    cfg: TeacherConfig,
    plan: list[tuple[int, str, float]],
    *,
    relax_start: bool,
) -> tuple[list[Frame], np.ndarray]:
    """Langevin MD frames of trajectories ``(k, split, temperature_K)``; seed from ``k``."""
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation
    from ase.optimize import BFGS

    frames: list[Frame] = []
    numbers = np.zeros(0, dtype=np.int64)
    for k, split, temperature in plan:
        seed = cfg.seed + 1000 * index + k
        rng = np.random.default_rng(seed)
        atoms = embed(spec.smiles, seed=seed)
        numbers = atoms.numbers.copy()
        atoms.calc = _calculator(cfg)
        try:
            if relax_start:  # start from a GFN2-xTB minimum, as mdval's built-in structures do
                BFGS(atoms, logfile=None).run(fmax=cfg.relax_fmax_eV_per_A, steps=200)
            MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
            Stationary(atoms)
            if len(atoms) > 2:
                ZeroRotation(atoms)
            dyn = Langevin(
                atoms,
                timestep=cfg.timestep_fs * units.fs,
                temperature_K=temperature,
                friction=cfg.friction_per_fs / units.fs,
                fixcm=False,
                rng=rng,
            )
            dyn.run(cfg.equilibration_steps)
            for _ in range(cfg.frames_per_trajectory):
                dyn.run(cfg.stride_steps)
                energy, forces = _label(atoms)
                pos = atoms.positions.copy()
                frames.append((pos, energy, forces, SPLITS.index(split), temperature, k, 0))
        except Exception as exc:  # SCF failure: keep what the trajectory produced
            print(f"[teacher] {spec.name} trajectory {k} stopped: {exc}", flush=True)
    return frames, numbers


def extra_plan(
    spec: MoleculeSpec, cfg: TeacherConfig, *, relaxed: bool = True
) -> list[tuple[int, str, float]]:
    """Extra training trajectories of core molecules, numbered after the base plan: first
    those from GFN2-xTB minima (``relaxed``), then those from fresh RDKit conformers."""
    if spec.role != "core":
        return []
    k0 = len(trajectory_plan(spec, cfg))
    temperatures = cfg.core_extra_temperatures_K
    if not relaxed:
        k0 += len(temperatures)
        temperatures = cfg.core_extra_embedded_temperatures_K
    return [(k0 + i, "train", t) for i, t in enumerate(temperatures)]


def sample_extra(spec: MoleculeSpec, index: int, cfg: TeacherConfig) -> list[Frame]:
    """The extra trajectories of a core molecule: from GFN2-xTB-relaxed starts, then from
    RDKit conformers of their own."""
    relaxed = _md_frames(spec, index, cfg, extra_plan(spec, cfg), relax_start=True)[0]
    plan = extra_plan(spec, cfg, relaxed=False)
    return relaxed + _md_frames(spec, index, cfg, plan, relax_start=False)[0]


def sample_molecule(spec: MoleculeSpec, index: int, cfg: TeacherConfig) -> dict[str, np.ndarray]:
    """All frames of one molecule as flat arrays (see :mod:`mdval.zoo.dataset`).

    Order: base MD trajectories, displaced, stretched, then the core molecules' extra
    trajectories (appended last so that adding them changed no other frame or seed).
    """
    plan = [(k, split, t) for k, (split, t) in enumerate(trajectory_plan(spec, cfg))]
    frames, numbers = _md_frames(spec, index, cfg, plan, relax_start=False)
    train_frames = [f[0] for f in frames if f[3] == SPLITS.index("train")]
    if spec.role != "heldout" and train_frames:
        rng = np.random.default_rng(cfg.seed + 1000 * index + 999)
        calc = _calculator(cfg)
        pairs = bonds(spec.smiles)
        from ase import Atoms

        def perturbed(kind: int, n: int) -> None:
            for _ in range(n):
                pos = train_frames[int(rng.integers(len(train_frames)))].copy()
                if kind == 1 or not pairs:
                    sigma = rng.uniform(*cfg.displacement_sigma_A)
                    pos = pos + rng.normal(0.0, sigma, pos.shape)
                else:
                    i, j = pairs[int(rng.integers(len(pairs)))]
                    if rng.random() < 0.5:
                        i, j = j, i
                    factor = rng.uniform(*cfg.stretch_factor)
                    pos[j] = pos[i] + factor * (pos[j] - pos[i])
                atoms = Atoms(numbers=numbers, positions=pos)
                atoms.calc = calc
                try:
                    energy, forces = _label(atoms)
                except Exception as exc:
                    print(f"[teacher] {spec.name} {KINDS[kind]} frame skipped: {exc}", flush=True)
                    continue
                frames.append((pos, energy, forces, 0, float("nan"), -1, kind))

        perturbed(1, cfg.n_displaced)
        perturbed(2, cfg.n_stretched)
    frames += sample_extra(spec, index, cfg)
    if not frames:
        raise RuntimeError(f"no teacher frames for {spec.name}")
    return frames_to_arrays(frames, numbers, index)


def frames_to_arrays(frames: list[Frame], numbers: np.ndarray, index: int) -> dict[str, np.ndarray]:
    """Flat arrays (the dataset format) of one molecule's frames."""
    n = len(numbers)
    return {
        "n_atoms": np.full(len(frames), n, dtype=np.int64),
        "numbers": np.tile(numbers.astype(np.int64), len(frames)),
        "positions": np.concatenate([f[0] for f in frames]),
        "energy": np.array([f[1] for f in frames]),
        "forces": np.concatenate([f[2] for f in frames]),
        "split": np.array([f[3] for f in frames], dtype=np.int64),
        "temperature_K": np.array([f[4] for f in frames]),
        "trajectory": np.array([f[5] for f in frames], dtype=np.int64),
        "kind": np.array([f[6] for f in frames], dtype=np.int64),
        "molecule": np.full(len(frames), index, dtype=np.int64),
    }


def _work(args: tuple[MoleculeSpec, int, TeacherConfig, str]) -> str:
    spec, index, cfg, out = args
    path = Path(out) / "molecules" / f"{index:02d}_{spec.name}.npz"
    if path.exists():
        return f"{spec.name}: cached"
    t0 = time.perf_counter()
    arrays = sample_molecule(spec, index, cfg)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, path)
    return f"{spec.name}: {len(arrays['energy'])} frames in {time.perf_counter() - t0:.0f} s"


def generate(
    out: Path,
    *,
    cfg: TeacherConfig | None = None,
    specs: list[MoleculeSpec] | None = None,
    workers: int = 1,
) -> Path:
    """Sample every molecule (cached per molecule) and merge into ``<out>/teacher.npz``."""
    cfg = cfg or TeacherConfig()
    specs = specs if specs is not None else read_smiles_list()
    (out / "molecules").mkdir(parents=True, exist_ok=True)
    # Largest molecules first, so the parallel tail is short.
    order = sorted(range(len(specs)), key=lambda i: -len(specs[i].smiles))
    jobs = [(specs[i], i, cfg, str(out)) for i in order]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            for done, msg in enumerate(pool.imap_unordered(_work, jobs), 1):
                print(f"[teacher {done}/{len(jobs)} {time.perf_counter() - t0:.0f}s] {msg}")
    else:
        for done, job in enumerate(jobs, 1):
            msg = _work(job)
            print(f"[teacher {done}/{len(jobs)} {time.perf_counter() - t0:.0f}s] {msg}")
    meta = {
        "teacher": cfg.method,
        "config": asdict(cfg),
        "molecules": [asdict(s) for s in specs],
        "splits": list(SPLITS),
        "kinds": list(KINDS),
        "generation_wall_s": round(time.perf_counter() - t0, 1),
    }
    files = [out / "molecules" / f"{i:02d}_{s.name}.npz" for i, s in enumerate(specs)]
    path = merge_molecule_files(files, out / "teacher.npz", meta)
    (out / "teacher.json").write_text(json.dumps(meta, indent=2))
    return path
