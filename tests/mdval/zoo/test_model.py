"""The student architecture: sizes, energy conservation, batching and invariances."""

from __future__ import annotations

import math

import pytest
import torch

from mdval.zoo.model import RadialMPPotential, count_parameters, energy_and_forces, script
from mdval.zoo.molecules import embed
from mdval.zoo.sizes import PARAM_TOLERANCE, SIZES, ZOO_ELEMENTS, build


@pytest.fixture(scope="module")
def model() -> RadialMPPotential:
    torch.manual_seed(0)
    m = RadialMPPotential(ZOO_ELEMENTS, width=16, n_interactions=2, n_rbf=8).double()
    m.set_normalisation(torch.tensor([-10.0, -40.0, -55.0, -75.0]), 1.0)
    return m


def _mol(smiles: str, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    atoms = embed(smiles, seed=seed)
    return torch.tensor(atoms.positions), torch.tensor(atoms.numbers)


@pytest.mark.parametrize("name", list(SIZES))
def test_parameter_counts_within_tolerance(name: str) -> None:
    n = count_parameters(build(name))
    assert abs(n / SIZES[name].target_params - 1) <= PARAM_TOLERANCE


def test_forces_match_finite_differences(model: RadialMPPotential) -> None:
    pos, z = _mol("CC(=O)NC")
    sys_idx = torch.zeros(len(z), dtype=torch.long)
    _, forces = energy_and_forces(model, pos, z, sys_idx, 1)
    h = 1e-5
    for atom, dim in [(0, 0), (3, 1), (len(z) - 1, 2)]:
        plus, minus = pos.clone(), pos.clone()
        plus[atom, dim] += h
        minus[atom, dim] -= h
        fd = -(model(plus, z, sys_idx, 1) - model(minus, z, sys_idx, 1)) / (2 * h)
        assert float(forces[atom, dim]) == pytest.approx(float(fd.detach()), rel=1e-6, abs=1e-8)


def test_batch_equals_separate_evaluations(model: RadialMPPotential) -> None:
    pa, za = _mol("CCO")
    pb, zb = _mol("c1ccncc1")
    pb = pb + 2.0  # overlapping in space: atoms of different systems must not interact
    sep = [
        energy_and_forces(model, p, z, torch.zeros(len(z), dtype=torch.long), 1)
        for p, z in ((pa, za), (pb, zb))
    ]
    # Interleave the two systems' atoms, so the batch is not sorted by system.
    pos = torch.cat([pa, pb])
    z = torch.cat([za, zb])
    sys_idx = torch.cat([torch.zeros(len(za)), torch.ones(len(zb))]).long()
    perm = torch.randperm(len(z), generator=torch.Generator().manual_seed(0))
    e, f = energy_and_forces(model, pos[perm], z[perm], sys_idx[perm], 2)
    f_back = torch.empty_like(f)
    f_back[perm] = f
    torch.testing.assert_close(e, torch.stack([sep[0][0][0], sep[1][0][0]]), rtol=1e-12, atol=0)
    torch.testing.assert_close(f_back, torch.cat([sep[0][1], sep[1][1]]), rtol=1e-9, atol=1e-12)


def test_energy_is_permutation_and_rotation_invariant(model: RadialMPPotential) -> None:
    pos, z = _mol("C[C@@H](C(=O)O)N")
    sys_idx = torch.zeros(len(z), dtype=torch.long)
    e0 = model(pos, z, sys_idx, 1)
    perm = torch.randperm(len(z), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(model(pos[perm], z[perm], sys_idx, 1), e0, rtol=1e-12, atol=0)
    a, b = 0.7, -1.3
    rz = torch.tensor(
        [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]],
        dtype=torch.float64,
    )
    rx = torch.tensor(
        [[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]],
        dtype=torch.float64,
    )
    moved = pos @ (rz @ rx).T + torch.tensor([3.0, -1.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(model(moved, z, sys_idx, 1), e0, rtol=1e-12, atol=0)


def test_torchscript_contract(model: RadialMPPotential) -> None:
    scripted = script(model)
    assert scripted.supported_atomic_numbers == [1, 6, 7, 8]
    assert scripted.cutoff_A == pytest.approx(5.0)
    pos, z = _mol("O")
    sys_idx = torch.zeros(len(z), dtype=torch.long)
    e32 = scripted(pos.float(), z, sys_idx, 1)
    assert e32.dtype == torch.float32 and e32.shape == (1,)
    with pytest.raises((RuntimeError, torch.jit.Error), match="supported_atomic_numbers"):
        scripted(pos, torch.tensor([8, 1, 16]), sys_idx, 1)


def test_plugins_import_without_their_packages() -> None:
    import importlib.util

    from mdval.zoo import plugins

    if importlib.util.find_spec("mace") is None:
        with pytest.raises(ImportError, match="mace-torch"):
            plugins.mace_calculator("cpu")
    if importlib.util.find_spec("orb_models") is None:
        with pytest.raises(ImportError, match="orb-models"):
            plugins.orb_calculator("cpu")
