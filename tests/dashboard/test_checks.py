"""Criteria levels, number formatting and the submit form's checks."""

from __future__ import annotations

from typing import Any

from dashboard import format
from dashboard.submit_checks import (
    MAX_CUSTOM_RUNS,
    api_field,
    element_problem,
    idempotency_key,
    parse_numbers,
    plan,
    request_of,
)

MODELS = {
    "emt": {
        "spec": "emt",
        "status": "ready",
        "supported_elements": ["Cu", "Ni"],
        "periodic_ok": True,
    },
    "zoo:tiny": {
        "spec": "zoo:tiny",
        "status": "ready",
        "supported_elements": ["C", "H", "N", "O"],
        "periodic_ok": False,
    },
}
STRUCTURES = {
    "H2O": {"spec": "H2O", "formula": "H2O", "elements": ["H", "O"], "periodic": False},
    "cu-fcc": {"spec": "cu-fcc", "formula": "Cu32", "elements": ["Cu"], "periodic": True},
}
CATALOG: dict[str, Any] = {
    "models": MODELS,
    "structures": STRUCTURES,
    "suites": {
        "m6-quick": {
            "name": "m6-quick",
            "definition": {"structures": ["H2O"], "reference": "gfn2-xtb"},
        }
    },
}


def _form(**kw: Any) -> dict[str, Any]:
    base = {
        "model": "zoo:tiny",
        "reference": None,
        "structure": "H2O",
        "mode": "custom",
        "suite": None,
        "temperatures": "300",
        "timesteps": "0.5",
        "duration_ps": 1.0,
        "equilibration_ps": 0.0,
        "seeds": 1,
        "record_every": 10,
        "device": "auto",
        "profile": "m6",
    }
    return {**base, **kw}


# The criteria levels are the core's, served by the API: tests/app/test_analysis_api.py and
# tests/mdval/test_analysis.py (the dashboard judges nothing itself).


def test_number_formatting() -> None:
    assert format.num(0.000123, 3, "eV/Å") == "1.23e-04 eV/Å"
    assert format.num(12345.6) == "12,346"
    assert format.num(None) == "—" and format.num(float("nan")) == "—"
    assert format.duration(3725) == "1 h 02 min" and format.duration(75) == "1 min 15 s"
    assert format.percent(0.256) == "26 %"


def test_a_valid_custom_form_plans_one_run_per_combination() -> None:
    bodies, problems = plan(_form(temperatures="100, 300", timesteps="0.5 1", seeds=2), CATALOG)
    assert problems == [] and len(bodies) == 8
    assert {b["seed"] for b in bodies} == {0, 1}
    assert bodies[0]["model"] == "zoo:tiny" and bodies[0]["structure"] == "H2O"


def test_numbers_out_of_range_use_the_api_messages() -> None:
    _bodies, problems = plan(_form(duration_ps=-1.0, temperatures="20000"), CATALOG)
    text = " ".join(problems)
    assert "duration_ps: Input should be greater than 0" in text
    assert "temperature_K: Input should be less than or equal to 5000" in text
    _bodies, problems = plan(_form(duration_ps=0.0001, timesteps="2"), CATALOG)
    assert any("less than one step" in p for p in problems)


def test_unsupported_elements_and_periodicity_are_caught() -> None:
    _b, problems = plan(_form(model="emt"), CATALOG)
    assert any("contains H, O, which model 'emt' does not support" in p for p in problems)
    assert element_problem(MODELS["zoo:tiny"], STRUCTURES["cu-fcc"], role="model")
    _b, problems = plan(_form(mode="suite", suite="m6-quick", model="emt"), CATALOG)
    assert any("does not support" in p for p in problems)


def test_missing_choices_bad_lists_and_too_many_runs() -> None:
    _b, problems = plan(_form(model=None, structure=None), CATALOG)
    assert any("choose a potential" in p for p in problems)
    assert any("choose a structure" in p for p in problems)
    assert parse_numbers("3OO", "temperatures (K)")[1]
    _b, problems = plan(
        _form(temperatures=" ".join(str(100 + t) for t in range(60)), timesteps="0.5 1"), CATALOG
    )
    assert any(str(MAX_CUSTOM_RUNS) in p for p in problems)


def test_a_suite_form_posts_the_suite_without_its_own_fields() -> None:
    bodies, problems = plan(_form(mode="suite", suite="m6-quick"), CATALOG)
    assert problems == [] and bodies == [
        {"model": "zoo:tiny", "profile": "m6", "device": "auto", "suite": "m6-quick"}
    ]


def test_a_rejected_smiles_is_named_and_the_earlier_structure_is_not_sent() -> None:
    smiles = "CC(=O)X"
    detail = f"SMILES rejected: bad SMILES '{smiles}': syntax error ...\n{smiles}\n~~~~~~^"
    rejected = {"structure": {"what": f"SMILES '{smiles}'", "detail": detail}}
    # the page empties the field on a rejection: the problem names it, in full
    bodies, problems = plan(
        _form(structure=None, structure_source="smiles", smiles=smiles), CATALOG, rejected
    )
    assert bodies == [] and problems == [f"Structure: SMILES '{smiles}' was rejected: {detail}"]
    # H2O still picked from before, SMILES on screen: nothing is planned until it is checked
    bodies, problems = plan(_form(structure_source="smiles", smiles=smiles), CATALOG)
    assert bodies == [] and problems == [
        f"Structure (SMILES): press Preview to check '{smiles}' before queueing"
    ]
    catalog = {**CATALOG, "structures": {**STRUCTURES, "smiles:O": STRUCTURES["H2O"]}}
    bodies, problems = plan(
        _form(structure="smiles:O", structure_source="smiles", smiles=" O "), catalog
    )
    assert problems == [] and bodies[0]["structure"] == "smiles:O"
    _b, problems = plan(_form(structure_source="upload"), CATALOG)
    assert problems == ["Structure (file): drop a structure file to upload it"]


def test_one_request_and_one_key_per_form_submission() -> None:
    bodies, _ = plan(_form(temperatures="100, 200, 300"), CATALOG)
    path, body = request_of(bodies, suite=False)
    assert path == "/runs/batch" and [r["temperature_K"] for r in body["runs"]] == [
        100.0,
        200.0,
        300.0,
    ]
    assert request_of(bodies[:1], suite=True) == ("/runs", bodies[0])
    key = idempotency_key("visit-1", path, body)
    assert key == idempotency_key("visit-1", path, {"runs": [dict(r) for r in body["runs"]]})
    assert key != idempotency_key("visit-2", path, body)  # a new visit of the page
    assert key != idempotency_key("visit-1", path, {"runs": body["runs"][:2]})  # a new form
    assert api_field("runs.1.structure") == "run 2: structure" and api_field("runs.0") == "run 1"
    assert api_field("model") == "model" and api_field(None) == ""
