"""The TorchScript contract: test potential, calculator, file checks."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk, molecule

from mdval.errors import InputError, PotentialError
from mdval.potentials.device import resolve_device
from mdval.potentials.registry import resolve_potential
from mdval.potentials.testing import (
    MorsePairPotential,
    export_test_potential,
    make_test_potential,
    morse_energy_numpy,
)
from mdval.potentials.torchscript import TorchScriptCalculator, load_torchscript_module
from mdval.structures import load_structure


@pytest.fixture(scope="module")
def morse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_test_potential(tmp_path_factory.mktemp("ts") / "morse.pt")


@pytest.fixture(scope="module")
def dipeptide() -> Atoms:
    return load_structure("alanine-dipeptide")


def fd_forces(atoms: Atoms, h: float = 1e-5) -> np.ndarray:
    """-dE/dx by central differences (eV/Å)."""
    out = np.zeros((len(atoms), 3))
    for i in range(len(atoms)):
        for k in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.calc = minus.calc = atoms.calc
            plus.positions[i, k] += h
            minus.positions[i, k] -= h
            out[i, k] = -(plus.get_potential_energy() - minus.get_potential_energy()) / (2 * h)
    return out


def test_forces_match_finite_differences(morse_file: Path, dipeptide: Atoms) -> None:
    atoms = dipeptide.copy()
    atoms.rattle(0.05, seed=1)
    atoms.calc = TorchScriptCalculator(morse_file)
    forces = atoms.get_forces()
    np.testing.assert_allclose(forces, fd_forces(atoms), atol=1e-6)
    assert abs(forces.sum(axis=0)).max() < 1e-10  # pair forces: no net force


def test_energy_matches_numpy_reference(morse_file: Path, dipeptide: Atoms) -> None:
    atoms = dipeptide.copy()
    atoms.calc = TorchScriptCalculator(morse_file)
    expected = morse_energy_numpy(atoms.positions, atoms.numbers)
    assert atoms.get_potential_energy() == pytest.approx(expected, abs=1e-10)
    assert atoms.get_potential_energy() == atoms.calc.results["free_energy"]
    # a pair beyond the cutoff contributes nothing
    far = Atoms("HO", positions=[[0, 0, 0], [0, 0, 6.0]])
    far.calc = atoms.calc
    assert far.get_potential_energy() == pytest.approx(-0.5 * (1 + 8), abs=1e-12)


def test_calculator_follows_changes_of_atoms(morse_file: Path) -> None:
    calc = TorchScriptCalculator(morse_file)
    water, methane = molecule("H2O"), molecule("CH4")
    for atoms in (water, methane, water):
        atoms.calc = calc
        assert atoms.get_potential_energy() == pytest.approx(
            morse_energy_numpy(atoms.positions, atoms.numbers), abs=1e-10
        )
    e0 = water.get_potential_energy()
    water.positions[0, 0] += 0.01  # in place: the calculator's snapshot must not alias it
    assert water.get_potential_energy() != e0
    assert calc.last_inference_s > 0
    snapshot = calc.atoms
    assert snapshot is not None and snapshot is not water
    assert np.array_equal(snapshot.positions, water.positions)
    swapped = water.copy()
    swapped.numbers = [1, 8, 1]  # same size, other elements
    swapped.calc = calc
    assert swapped.get_potential_energy() == pytest.approx(
        morse_energy_numpy(swapped.positions, swapped.numbers), abs=1e-10
    )
    assert calc.get_potential_energy() == swapped.get_potential_energy()  # cached, no atoms


def test_batched_contract_matches_single_systems() -> None:
    model = make_test_potential()
    a, b = molecule("H2O"), molecule("CH4")
    pos = torch.tensor(np.vstack([a.positions, b.positions]), dtype=torch.float64)
    z = torch.tensor(np.concatenate([a.numbers, b.numbers]))
    sys = torch.tensor([0] * len(a) + [1] * len(b))
    energies = model(pos, z, sys, 2)
    assert energies.shape == (2,) and energies.dtype == torch.float64
    assert energies[0].item() == pytest.approx(morse_energy_numpy(a.positions, a.numbers))
    assert energies[1].item() == pytest.approx(morse_energy_numpy(b.positions, b.numbers))


def test_float32_calculator_and_model(tmp_path: Path, dipeptide: Atoms) -> None:
    path = export_test_potential(tmp_path / "m32.pt", dtype=torch.float32)
    atoms = dipeptide.copy()
    atoms.calc = TorchScriptCalculator(path, dtype=torch.float32)
    e32 = atoms.get_potential_energy()
    assert atoms.get_forces().dtype == np.float64
    atoms.calc = TorchScriptCalculator(path)  # float64 by default: parameters are cast
    assert next(atoms.calc.module.parameters()).dtype == torch.float64
    assert atoms.get_potential_energy() == pytest.approx(e32, abs=1e-3)


def test_periodic_atoms_are_refused(morse_file: Path) -> None:
    atoms = bulk("Cu", cubic=True)
    atoms.set_atomic_numbers([6] * len(atoms))
    atoms.calc = TorchScriptCalculator(morse_file)
    with pytest.raises(PotentialError, match="non-periodic"):
        atoms.get_potential_energy()


def test_entry_facts(morse_file: Path) -> None:
    entry = resolve_potential(str(morse_file))
    assert entry.kind == "torchscript" and entry.is_torch
    assert entry.n_params == 3 * 4 + 1  # radius, depth, e0 per element + alpha
    assert entry.n_params == sum(p.numel() for p in MorsePairPotential().parameters())
    assert entry.sha256 == hashlib.sha256(morse_file.read_bytes()).hexdigest()
    assert entry.supported_elements == frozenset({"H", "C", "N", "O"})
    assert entry.periodic_ok is False
    assert entry.extra["cutoff_A"] == 5.0
    assert entry.torchscript_path == morse_file.resolve()
    atoms = molecule("H2O")
    atoms.calc = entry.make_calculator("cpu")
    assert np.isfinite(atoms.get_forces()).all()
    assert entry.describe()["supported_elements"] == ["C", "H", "N", "O"]


def test_entry_cache_follows_the_file(tmp_path: Path) -> None:
    path = export_test_potential(tmp_path / "m.pt")
    first = resolve_potential(str(path))
    assert resolve_potential(str(path)).sha256 == first.sha256
    export_test_potential(path, elements={1: (0.37, 4.5), 8: (0.66, 2.6)})
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    second = resolve_potential(str(path))
    assert second.sha256 != first.sha256
    assert second.n_params == 3 * 2 + 1
    assert second.supported_elements == frozenset({"H", "O"})


def test_pickled_files_are_rejected_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    saved = tmp_path / "checkpoint.pt"
    torch.save({"model": Evil()}, saved)
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps(Evil()))
    state_dict = tmp_path / "state.pt"
    torch.save(MorsePairPotential().state_dict(), state_dict)
    for path in (saved, legacy, state_dict):
        with pytest.raises(PotentialError, match=rf"'{path.name}' is not a TorchScript module"):
            resolve_potential(str(path))
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")
def test_module_breaking_the_contract_is_rejected(tmp_path: Path) -> None:
    class Wrong(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.supported_atomic_numbers = [1]
            self.w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))

        def forward(
            self, positions: torch.Tensor, z: torch.Tensor, s: torch.Tensor, n: int
        ) -> torch.Tensor:
            return (positions * self.w).sum()  # a scalar, not (n_systems,)

    path = tmp_path / "wrong.pt"
    torch.jit.script(Wrong()).save(str(path))
    with pytest.raises(PotentialError, match=r"wrong.pt: returned \(\) for 2 systems"):
        resolve_potential(str(path))


def test_missing_torchscript_file(tmp_path: Path) -> None:
    with pytest.raises(PotentialError, match="TorchScript file not found"):
        resolve_potential(str(tmp_path / "absent.pt"))
    with pytest.raises(PotentialError, match="not found"):
        load_torchscript_module(tmp_path / "absent.pt")


def test_resolve_device() -> None:
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU"):
            resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(morse_file: Path, dipeptide: Atoms) -> None:
    atoms = dipeptide.copy()
    atoms.calc = TorchScriptCalculator(morse_file, device="cpu")
    e_cpu, f_cpu = atoms.get_potential_energy(), atoms.get_forces()
    atoms.calc = TorchScriptCalculator(morse_file, device="cuda")
    assert atoms.get_potential_energy() == pytest.approx(e_cpu, abs=1e-9)
    np.testing.assert_allclose(atoms.get_forces(), f_cpu, atol=1e-9)


class _CountsCalls(torch.nn.Module):
    """A model whose forward assigns to its own attribute: it cannot be frozen."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> torch.Tensor:
        self.calls += 1
        e = (positions * positions).sum(1)
        return torch.zeros(n_systems, dtype=e.dtype).index_add_(0, system_index, e)


def test_the_hot_path_runs_a_frozen_copy_with_identical_energies_and_forces() -> None:
    from mdval.bench.systems import structure
    from mdval.md.torch_engine.model import ForceModel
    from mdval.md.torch_engine.state import state_from_atoms
    from mdval.potentials.registry import resolve_potential
    from mdval.potentials.torchscript import frozen_for_calls

    model = ForceModel.from_entry(resolve_potential("zoo:ultra-tiny"), "cpu")
    assert model._forward is not model.module  # frozen: parameters folded into the graph
    assert hasattr(model.module, "cutoff_A")  # the model as loaded keeps its metadata
    s = state_from_atoms([structure("alanine-dipeptide")])
    inputs = (s.positions, s.atomic_numbers, s.system_index, 1)
    energies, forces = model(*inputs)
    plain = ForceModel(model.module)
    plain._forward = model.module  # the same model, not frozen
    e0, f0 = plain(*inputs)
    assert torch.equal(energies, e0) and torch.equal(forces, f0)
    # what cannot be frozen runs as it is; eager modules are never frozen
    scripted = torch.jit.script(_CountsCalls())
    assert frozen_for_calls(scripted) is scripted
    eager = _CountsCalls()
    assert frozen_for_calls(eager) is eager
