"""Suites are data: the built-ins expand to the right runs, in order; bad files say why."""

from __future__ import annotations

import itertools
import json

import pytest

from mdval.errors import InputError
from mdval.md.config import RunConfig
from mdval.suites import expand, list_suites, load_suite, parse_suite, run_key
from mdval.suites.schema import DEFAULT_SEEDS, Suite


def test_built_in_suites() -> None:
    assert {"m6-quick", "m6-full"} <= set(list_suites())
    for name in ("m6-quick", "m6-full"):
        suite = load_suite(name)
        assert suite.description and suite.reference == "gfn2-xtb" and suite.profile == "m6"
        assert suite.seeds == [0, 1, 2]


def test_m6_quick_expands_to_three_seeds_of_three_structures_in_order() -> None:
    configs = expand("m6-quick", model="zoo:original")
    assert load_suite("m6-quick").n_runs == 9
    assert [run_key(c) for c in configs] == [
        f"{structure}_300K_0.5fs_5ps_s{seed}"
        for structure in ("H2O", "CH4", "alanine-dipeptide")
        for seed in (0, 1, 2)
    ]
    for c in configs:
        assert isinstance(c, RunConfig)
        assert (c.model, c.reference, c.profile) == ("zoo:original", "gfn2-xtb", "m6")
        assert (c.temperature_K, c.timestep_fs, c.duration_ps) == (300.0, 0.5, 5.0)
    assert [c.seed for c in configs] == [0, 1, 2] * 3


def test_materials_quick_is_periodic_against_a_materials_teacher() -> None:
    configs = expand("materials-quick", model="chgnet:0.3.0")
    assert load_suite("materials-quick").n_runs == len(configs) == 8
    assert {c.structure for c in configs} == {"cu-fcc", "si-diamond"}
    assert {(c.temperature_K, c.timestep_fs) for c in configs} == set(
        itertools.product((300.0, 600.0), (1.0, 2.0))
    )
    assert {(c.reference, c.equilibration_ps, c.duration_ps) for c in configs} == {
        ("sevennet:7net-0", 0.5, 1.0)
    }


def test_m6_full_is_the_product_plus_the_long_run() -> None:
    configs = expand("m6-full", model="zoo:tiny")
    assert len(configs) == 4 * 3 * 3 * 3 + 1 == 109 == load_suite("m6-full").n_runs
    structures = ["H2O", "CH4", "alanine", "alanine-dipeptide"]
    expected = [
        (s, t, dt, 10.0, seed)
        for s, t, dt, seed in itertools.product(
            structures, [100.0, 300.0, 500.0], [0.5, 1.0, 2.0], [0, 1, 2]
        )
    ]
    assert [
        (c.structure, c.temperature_K, c.timestep_fs, c.duration_ps, c.seed) for c in configs[:-1]
    ] == expected
    long_run = configs[-1]
    assert (long_run.structure, long_run.temperature_K, long_run.timestep_fs) == (
        "alanine-dipeptide",
        300.0,
        0.5,
    )
    assert long_run.duration_ps == 50.0
    assert long_run.seed == 0  # an extra run takes the suite's first seed: one long run
    assert len({run_key(c) for c in configs}) == 109


def test_expansion_is_deterministic() -> None:
    assert expand("m6-full", model="m") == expand("m6-full", model="m")


def test_reference_default_none_and_explicit() -> None:
    assert {c.reference for c in expand("m6-quick", model="m")} == {"gfn2-xtb"}
    assert {c.reference for c in expand("m6-quick", model="m", reference=None)} == {None}
    assert {c.reference for c in expand("m6-quick", model="m", reference="emt")} == {"emt"}


def test_overrides_apply_to_every_run() -> None:
    configs = expand("m6-full", model="m", device="cuda", engine="torch")
    assert {(c.device, c.engine) for c in configs} == {("cuda", "torch")}


def test_override_that_makes_runs_identical_keeps_them_once() -> None:
    # every 10 ps run and the 50 ps run become 2 ps: the long run (seed 0) duplicates the
    # seed-0 product run of its cell
    configs = expand("m6-full", model="m", duration_ps=2.0)
    assert len(configs) == 108
    assert {c.duration_ps for c in configs} == {2.0}


def test_unknown_override_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"unknown run field.*colour"):
        expand("m6-quick", model="m", colour="red")


def test_invalid_override_names_the_field() -> None:
    with pytest.raises(InputError, match="timestep_fs"):
        expand("m6-quick", model="m", timestep_fs=50.0)
    with pytest.raises(InputError, match="model"):
        expand("m6-quick", model="")


def _write(tmp_path, text: str, name: str = "suite.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_seeds_as_a_count(tmp_path) -> None:
    path = _write(tmp_path, "name: s\nstructures: [H2O, CH4]\ndurations_ps: 1\nseeds: 3\n")
    keys = [run_key(c) for c in expand(path, model="m")]
    assert keys == [
        "H2O_300K_0.5fs_1ps_s0",
        "H2O_300K_0.5fs_1ps_s1",
        "H2O_300K_0.5fs_1ps_s2",
        "CH4_300K_0.5fs_1ps_s0",
        "CH4_300K_0.5fs_1ps_s1",
        "CH4_300K_0.5fs_1ps_s2",
    ]


def test_seeds_as_a_list_and_extra_run_seed_default(tmp_path) -> None:
    path = _write(
        tmp_path,
        "name: s\nstructures: [H2O]\nseeds: [7, 3]\nextra_runs:\n"
        "  - {structure: CH4, temperature_K: 500, timestep_fs: 1, duration_ps: 2}\n",
    )
    configs = expand(path, model="m")
    assert [c.seed for c in configs] == [7, 3, 7]
    assert run_key(configs[-1]) == "CH4_500K_1fs_2ps_s7"


def test_extra_run_may_set_other_run_fields(tmp_path) -> None:
    path = _write(
        tmp_path,
        "name: s\nequilibration_ps: 1\nrecord_every: 5\nextra_runs:\n"
        "  - {structure: H2O, temperature_K: 300, timestep_fs: 0.5, duration_ps: 1, seed: 4,"
        " equilibration_ps: 0, frame_every: 10}\n",
    )
    (config,) = expand(path, model="m")
    assert (config.seed, config.equilibration_ps, config.frame_every, config.record_every) == (
        4,
        0.0,
        10,
        5,
    )


def test_json_suite_file(tmp_path) -> None:
    data = {"name": "j", "structures": ["H2O"], "temperatures_K": [100, 200]}
    path = _write(tmp_path, json.dumps(data), "suite.json")
    assert len(expand(path, model="m")) == 2 * DEFAULT_SEEDS == 6


def test_a_suite_without_seeds_runs_three_replicas(tmp_path) -> None:
    assert DEFAULT_SEEDS == 3
    path = _write(tmp_path, "name: s\nstructures: [H2O]\ndurations_ps: 1\n")
    assert load_suite(path).seeds == [0, 1, 2]
    assert [run_key(c) for c in expand(path, model="m")] == [
        "H2O_300K_0.5fs_1ps_s0",
        "H2O_300K_0.5fs_1ps_s1",
        "H2O_300K_0.5fs_1ps_s2",
    ]
    one = _write(tmp_path, "name: s\nstructures: [H2O]\nseeds: 1\n", "one.yaml")
    assert [c.seed for c in expand(one, model="m")] == [0]


def test_parse_suite_from_a_mapping() -> None:
    suite = parse_suite({"name": "api", "structures": "H2O"}, source="request body")
    assert isinstance(suite, Suite) and suite.structures == ["H2O"]
    with pytest.raises(InputError, match="request body: name"):
        parse_suite({"structures": ["H2O"]}, source="request body")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("[1, 2]", "top level must be a mapping"),
        ("structures: [H2O]\n", "name: Field required"),
        ("name: s\nstructures: [H2O]\ncolour: red\n", "colour: Extra inputs"),
        ("name: s\nstructures: [H2O]\ntemperatures_K: [300, hot]\n", r"temperatures_K\.1"),
        ("name: s\nstructures: [H2O]\ntemperatures_K: [300, 9000]\n", "temperature_K"),
        ("name: s\nstructures: [H2O]\ntimesteps_fs: [0.5, 0.5]\n", "repeated value"),
        ("name: s\nstructures: [H2O]\nseeds: 0\n", "seed count must be at least 1"),
        ("name: s\nstructures: [H2O]\ndurations_ps: []\n", "at least one value"),
        ("name: s\n", "structures or extra_runs"),
        ("name: s\nstructures: [H2O]\nprofile: m7\n", "unknown profile 'm7'"),
        ("name: bad name\nstructures: [H2O]\n", "name: String should match"),
        (
            "name: s\nextra_runs:\n  - {structure: H2O, temperature_K: 300, timestep_fs: 0.5}\n",
            r"extra_runs\.0\.duration_ps",
        ),
        (
            "name: s\nextra_runs:\n  - {structure: H2O, temperature_K: 300, timestep_fs: 0.5,"
            " duration_ps: 1, model: x}\n",
            "unknown run field.*model",
        ),
        (
            "name: s\nextra_runs:\n  - {structure: H2O, temperature_K: 300, timestep_fs: 0.5,"
            " duration_ps: 1, friction_per_ps: -1}\n",
            r"extra_runs\.0 .*friction_per_ps",
        ),
        (
            "name: s\nstructures: [H2O]\nextra_runs:\n  - {structure: H2O, temperature_K: 300,"
            " timestep_fs: 0.5, duration_ps: 5, equilibration_ps: 2}\n",
            "share the key 'H2O_300K_0.5fs_5ps_s0'",
        ),
    ],
)
def test_bad_suite_file_names_the_problem(tmp_path, text: str, problem: str) -> None:
    path = _write(tmp_path, text, "bad.yaml")
    with pytest.raises(InputError, match=problem) as info:
        load_suite(path)
    assert "bad.yaml" in str(info.value)


def test_unknown_suite_lists_the_built_ins() -> None:
    with pytest.raises(InputError, match=r"unknown suite 'm6-huge'.*m6-full, m6-quick"):
        load_suite("m6-huge")


def test_run_key_of_a_plain_spec_and_of_a_mapping() -> None:
    config = RunConfig(
        model="m",
        structure="alanine-dipeptide",
        temperature_K=297.5,
        timestep_fs=0.25,
        duration_ps=1.5,
        seed=12,
    )
    assert run_key(config) == "alanine-dipeptide_297.5K_0.25fs_1.5ps_s12"
    assert run_key(config.model_dump()) == run_key(config)


@pytest.mark.parametrize("spec", ["dir/my mol.xyz", "smiles:CC(=O)O", "alanine_dipeptide", "../x"])
def test_run_key_of_an_awkward_spec_is_safe_and_distinct(spec: str) -> None:
    key = run_key(RunConfig(model="m", structure=spec))
    assert all(ch.isalnum() or ch in "._+-" for ch in key)
    assert not key.startswith(".")
    other = run_key(RunConfig(model="m", structure=spec + "2"))
    assert key != other
    assert run_key(RunConfig(model="m", structure=spec)) == key  # stable
