"""`mdval.metrics` loads its names lazily (PEP 562) and still exports every one of them."""

from __future__ import annotations

import importlib
import subprocess
import sys

import mdval.metrics as metrics


def test_every_exported_name_resolves_to_its_submodules_object() -> None:
    for name in metrics.__all__:
        value = getattr(metrics, name)
        module = importlib.import_module(f"mdval.metrics.{metrics._SUBMODULE_OF[name]}")
        assert value is getattr(module, name), name
    assert set(metrics.__all__) == set(metrics._SUBMODULE_OF)
    assert set(metrics.__all__) <= set(dir(metrics))


def test_from_import_of_an_unknown_name_is_an_import_error() -> None:
    try:
        from mdval.metrics import no_such_metric  # type: ignore[attr-defined]  # noqa: F401
    except ImportError as exc:
        assert "no_such_metric" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown name was importable")


def test_vdos_stays_the_function_after_its_submodule_is_imported() -> None:
    """`vdos` is both a function and the submodule defining it; importing the submodule
    first (as observables does) must not rebind the package's `vdos` to the module."""
    code = (
        "import mdval.metrics.observables, mdval.metrics as m\n"
        "from mdval.metrics import vdos\n"
        "print(callable(m.vdos) and m.vdos is vdos and vdos.__module__ == 'mdval.metrics.vdos')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
