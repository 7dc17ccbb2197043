"""Spec strings to registry entries: built-ins, zoo slot, py: allowlist, unknown specs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk, molecule

from mdval.errors import PotentialError
from mdval.potentials import ACCEPTED_FORMS, resolve_potential
from mdval.potentials.classical import EMT_ELEMENTS
from mdval.potentials.testing import export_test_potential
from mdval.potentials.zoo_slot import list_zoo, resolve_zoo
from mdval.settings import get_settings


def test_importing_the_package_loads_neither_torch_nor_tblite() -> None:
    import subprocess

    code = (
        "import sys, mdval.potentials, mdval.structures;"
        "from mdval.potentials import resolve_potential; resolve_potential('emt');"
        "print('torch' in sys.modules, 'tblite' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_builtin_entries() -> None:
    xtb = resolve_potential("GFN2-xTB")
    assert (xtb.kind, xtb.spec, xtb.periodic_ok) == ("xtb", "gfn2-xtb", True)
    assert xtb.supported_elements is not None and len(xtb.supported_elements) == 86
    assert {"H", "C", "Cu", "Rn"} <= xtb.supported_elements and "Fr" not in xtb.supported_elements
    assert "tblite" in xtb.name and len(xtb.sha256) == 64
    assert resolve_potential("gfn2-xtb").sha256 == xtb.sha256  # deterministic

    emt = resolve_potential("emt")
    assert emt.supported_elements == EMT_ELEMENTS and emt.kind == "ase"
    cu = bulk("Cu", "fcc", a=3.61, cubic=True)
    cu.calc = emt.make_calculator()
    assert np.isfinite(cu.get_potential_energy())

    lj = resolve_potential(" LJ ")
    assert lj.supported_elements is None and lj.extra["toy"] is True
    water = molecule("H2O")
    water.calc = lj.make_calculator("cpu")
    assert np.isfinite(water.get_forces()).all()
    assert len({xtb.sha256, emt.sha256, lj.sha256}) == 3


def test_unknown_spec_lists_the_accepted_forms() -> None:
    with pytest.raises(PotentialError) as err:
        resolve_potential("mace-mp-0")
    assert "unknown potential 'mace-mp-0'" in str(err.value)
    assert ACCEPTED_FORMS in str(err.value)


def test_zoo_missing_name_lists_models(tmp_path: Path) -> None:
    with pytest.raises(PotentialError, match=r"no zoo model 'nope'; zoo models present: none"):
        resolve_zoo("nope", weights_dir=tmp_path)
    export_test_potential(tmp_path / "tiny.pt")
    export_test_potential(tmp_path / "original.pt")
    (tmp_path / "original.pt.staged").write_bytes(b"partial")
    assert list_zoo(tmp_path) == ["original", "tiny"]
    with pytest.raises(PotentialError, match=r"zoo models present: zoo:original, zoo:tiny"):
        resolve_zoo("nope", weights_dir=tmp_path)
    with pytest.raises(PotentialError, match="no zoo model"):
        resolve_zoo("../tiny", weights_dir=tmp_path)


def test_zoo_spec_goes_through_the_slot() -> None:
    with pytest.raises(PotentialError, match="no zoo model 'definitely-not-there'"):
        resolve_potential("zoo:definitely-not-there")


def test_zoo_entry_with_card(tmp_path: Path) -> None:
    export_test_potential(tmp_path / "tiny.pt")
    (tmp_path / "tiny.json").write_text(json.dumps({"display_name": "Tiny (77K)", "n": 1}))
    entry = resolve_zoo("tiny", weights_dir=tmp_path)
    assert (entry.spec, entry.kind, entry.name) == ("zoo:tiny", "zoo", "Tiny (77K)")
    assert entry.extra["card"]["n"] == 1 and entry.is_torch and entry.n_params == 13
    (tmp_path / "tiny.json").write_text("{broken")
    with pytest.raises(PotentialError, match=r"'tiny\.json' is not valid JSON"):
        resolve_zoo("tiny", weights_dir=tmp_path)


def test_py_factory_needs_the_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = "py:mdval.potentials.testing:morse_calculator"
    monkeypatch.setattr(get_settings(), "py_factory_allowlist", [])
    with pytest.raises(PotentialError) as err:
        resolve_potential(spec)
    assert "not on the py-factory allowlist" in str(err.value)
    assert "MDVAL_PY_FACTORY_ALLOWLIST" in str(err.value)

    monkeypatch.setattr(get_settings(), "py_factory_allowlist", [spec])
    entry = resolve_potential(spec)
    assert entry.kind == "py" and entry.supported_elements == frozenset("HCNO")
    assert entry.periodic_ok is False and len(entry.sha256) == 64
    water = molecule("H2O")
    water.calc = entry.make_calculator("cpu")  # called with device= (it declares one)
    assert np.isfinite(water.get_potential_energy())


def test_py_factory_without_device_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = "py:ase.calculators.emt:EMT"
    monkeypatch.setattr(get_settings(), "py_factory_allowlist", [spec])
    entry = resolve_potential(spec)
    assert type(entry.make_calculator("cpu")).__name__ == "EMT"
    assert entry.supported_elements is None


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("py:justonepart", "expected py:<module>:<factory>"),
        ("py:no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
        ("py:ase.calculators.emt:Nope", "has no attribute 'Nope'"),
        ("py:ase.calculators.emt:__doc__", "is not callable"),
    ],
)
def test_py_factory_errors(monkeypatch: pytest.MonkeyPatch, spec: str, problem: str) -> None:
    monkeypatch.setattr(get_settings(), "py_factory_allowlist", [spec])
    with pytest.raises(PotentialError, match=problem):
        resolve_potential(spec)


def test_py_factory_is_not_imported_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "py_factory_allowlist", [])
    monkeypatch.delitem(sys.modules, "antigravity", raising=False)
    with pytest.raises(PotentialError, match="allowlist"):
        resolve_potential("py:antigravity:fly")
    assert "antigravity" not in sys.modules
