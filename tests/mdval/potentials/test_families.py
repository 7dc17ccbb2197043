"""Model families as specs: parsing, options, identity, messages — and, where the package is
installed (the `mlip` marker), the real published weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk, molecule

from mdval.errors import PotentialError
from mdval.potentials.families import FAMILIES, describe_families, is_family_spec
from mdval.potentials.families.spec import DEVICE, Option, parse_family_spec
from mdval.potentials.registry import resolve_potential

OPTS = (Option("dtype", ("float32", "float64")), DEVICE)


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_defaults_fill_in_and_the_canonical_form_is_one_model() -> None:
    plain = parse_family_spec("ani:1x", options=OPTS)
    explicit = parse_family_spec("ANI:1x?dtype=float32", options=OPTS)
    assert plain == explicit
    assert plain.canonical == "ani:1x?dtype=float32"  # device shown only when pinned
    pinned = parse_family_spec("ani:1x?device=cuda&dtype=float64", options=OPTS)
    assert pinned.canonical == "ani:1x?device=cuda&dtype=float64"
    assert pinned.identity_options == (("dtype", "float64"),)  # device changes no number


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("ani:1x?dtype=float16", "use one of float32, float64"),
        ("ani:1x?precision=high", "unknown option 'precision'; ani accepts device, dtype"),
        ("ani:1x?dtype=float32&dtype=float64", "given twice"),
        ("ani:1x?dtype", "key=value"),
        ("ani:", "name a checkpoint"),
    ],
)
def test_bad_options_name_what_is_accepted(text: str, needle: str) -> None:
    with pytest.raises(PotentialError, match=needle):
        parse_family_spec(text, options=OPTS)


def test_family_specs_are_told_from_other_specs() -> None:
    assert is_family_spec("sevennet:7net-0")
    assert is_family_spec("mace:/models/x.model?dtype=float32")
    assert not is_family_spec("zoo:tiny")
    assert not is_family_spec("py:pkg:factory")
    assert not is_family_spec("model.pt")


def test_catalogue_lists_every_family_with_its_extra_and_options() -> None:
    families = {f["family"]: f for f in describe_families()}
    assert set(families) == set(FAMILIES)
    assert families["ani"]["extra"] == "ani"
    assert families["sevennet"]["extra"] == families["chgnet"]["extra"] == "materials"
    assert "7net-0" in families["sevennet"]["shipped"]
    assert {o["name"] for o in families["ani"]["options"]} == {"dtype", "device"}


def test_declared_checkpoints_are_the_ones_the_adapters_know() -> None:
    from mdval.potentials.families import ani, chgnet, sevennet
    from mdval.potentials.families.declared import DECLARED

    for adapter in (ani, sevennet, chgnet):
        assert tuple(adapter._SHIPPED) == DECLARED[adapter.FAMILY].shipped


@pytest.mark.parametrize(
    ("spec", "module", "extra"),
    [("orb:/m/x.ckpt", "orb_models", "orb"), ("fairchem:/m/x.pt", "fairchem", "fairchem"),
     ("mace:/m/x.model", "mace", "mace")],
)  # fmt: skip
def test_a_missing_package_names_the_extra_to_install(spec: str, module: str, extra: str) -> None:
    if installed(module):
        pytest.skip(f"{module} is installed here")
    with pytest.raises(PotentialError, match=rf"pip install 'mdval\[{extra}\]'"):
        resolve_potential(spec)


@pytest.mark.parametrize("spec", ["orb:/m/x.ckpt", "fairchem:/m/x.pt", "mace:/m/x.model"])
def test_the_catalogue_says_what_a_run_of_a_missing_family_is_told(spec: str) -> None:
    """The API's family list (``missing``) and the adapter's error are one check."""
    from mdval.potentials.families.declared import DECLARED, installed_version, not_installed

    declared = DECLARED[spec.split(":")[0]]
    if installed_version(declared.dist) is not None:
        assert not_installed(declared) is None
        pytest.skip(f"{declared.dist} is installed here")
    with pytest.raises(PotentialError) as raised:
        resolve_potential(spec)
    assert str(raised.value) == not_installed(declared)


# --- real weights (the packages' own files) ------------------------------------------------

needs_ani = pytest.mark.skipif(not installed("torchani"), reason="pip install 'mdval[ani]'")
needs_sevenn = pytest.mark.skipif(not installed("sevenn"), reason="pip install 'mdval[materials]'")
needs_chgnet = pytest.mark.skipif(not installed("chgnet"), reason="pip install 'mdval[materials]'")


@pytest.mark.mlip
@needs_ani
def test_ani_dtypes_are_two_models_of_one_network() -> None:
    f32, f64 = resolve_potential("ani:1x"), resolve_potential("ani:1x?dtype=float64")
    assert f32.spec == "ani:1x?dtype=float32"
    assert f32.sha256 != f64.sha256
    assert f32.sha256 == resolve_potential("ani:1x?dtype=float32").sha256
    assert f32.n_params == f64.n_params and f32.n_params is not None and f32.n_params > 10**6
    assert f32.supported_elements == frozenset({"H", "C", "N", "O"})
    atoms = molecule("CH4")
    energies, forces = [], []
    for entry in (f32, f64):
        atoms.calc = entry.make_calculator("cpu")
        energies.append(atoms.get_potential_energy())
        forces.append(atoms.get_forces())
    assert -1110 < energies[1] < -1090  # eV: ANI's total energy of methane (≈ -40.5 Ha)
    assert abs(energies[0] - energies[1]) < 1e-3
    np.testing.assert_allclose(forces[0], forces[1], atol=1e-3)


@pytest.mark.mlip
@needs_sevenn
def test_sevennet_gives_energy_forces_and_stress_on_a_periodic_metal() -> None:
    entry = resolve_potential("sevennet:7net-0")
    assert entry.n_params and entry.n_params > 10**5 and "Cu" in (entry.supported_elements or ())
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.calc = entry.make_calculator("cpu")
    per_atom = atoms.get_potential_energy() / len(atoms)
    assert -4.5 < per_atom < -3.5  # eV/atom: Cu's cohesive scale in PBE
    assert np.abs(atoms.get_forces()).max() < 1e-3  # the perfect lattice is balanced
    assert atoms.get_stress().shape == (6,)


@pytest.mark.mlip
@needs_chgnet
def test_chgnet_counts_its_parameters_and_hashes_its_checkpoint(tmp_path: Path) -> None:
    entry = resolve_potential("chgnet:0.3.0")
    assert entry.n_params == 412_525  # the number CHGNet 0.3.0 prints for itself
    assert not entry.molecules_ok and entry.describe()["molecules_ok"] is False
    broken = tmp_path / "broken.pth.tar"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(PotentialError) as info:
        resolve_potential(f"chgnet:{broken}")
    assert "could not load" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.mlip
@needs_ani
def test_eight_ani_replicas_on_the_torch_engine_match_the_ase_engine() -> None:
    """Batched ANI (padded onto mdval's contract) reproduces ASE's velocity Verlet with
    torchani's own calculator, replica by replica. Both sides cast the same float64
    positions to the ensemble's float32; padding changes only the order of float32 sums
    (≈1e-6 eV/Å), so 10 steps agree to 1e-5 Å."""
    from mdval.md.ase_engine import AseEngine
    from mdval.md.engine import PhaseSpec
    from mdval.md.torch_engine import run_batch
    from mdval.md.velocities import degrees_of_freedom, initialize_velocities
    from mdval.structures import load_structure

    entry = resolve_potential("ani:1x?dtype=float32")
    assert entry.is_torch  # the batched engine takes it
    molecules = [load_structure(n) for n in ("CH4", "H2O", "alanine")]
    systems = [(molecules[k % 3], 300.0 + 25 * k, k) for k in range(8)]
    n_steps = 10
    batch = run_batch(entry, systems, n_steps=n_steps, timestep_fs=0.5, record_every=n_steps)
    assert [r.status for r in batch.replicas] == ["completed"] * 8
    for k, (atoms, temperature, seed) in enumerate(systems):
        start = atoms.copy()
        velocity_seed, _ = np.random.SeedSequence(seed).spawn(2)
        initialize_velocities(start, temperature, np.random.default_rng(velocity_seed))
        AseEngine(entry, "cpu").run_phase(
            start, PhaseSpec("production", n_steps, 0.5), [], n_dof=degrees_of_freedom(start),
            rng=np.random.default_rng(0),
        )  # fmt: skip
        mine = batch.replicas[k].atoms
        assert np.abs(mine.positions - atoms.positions).max() > 1e-3  # it really moved
        assert np.abs(mine.positions - start.positions).max() < 1e-5
        assert np.abs(mine.get_momenta() - start.get_momenta()).max() < 1e-4
