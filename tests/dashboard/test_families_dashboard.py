"""Published model families in the dashboard: the submit form's picker offers the shipped
checkpoints beside the registered models (elements shown; disabled with the extra when the
server lacks the package), the dtype control builds the canonical spec, the Models page
lists the families, and a family model's leaderboard row shows name, kind and parameters
beside the zoo's. Callbacks are called in-process, as the browser calls them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.crud import catalog as crud
from app.db.base import utcnow
from dashboard import families
from dashboard.submit_checks import plan
from tests.dashboard import fake_data
from tests.dashboard.inprocess import callback, embedded

ANI = "ani:1x?dtype=float32"
ANI_ROW = ("ANI-1x (float32)", "family", 5_657_248)  # name, kind, n_params of the family row


def _installed(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with embedded(tmp_path_factory.mktemp("families")) as (c, engine):
        fake_data.populate_runs(engine, 8)
        name, kind, n_params = ANI_ROW
        with Session(engine) as s:
            crud.upsert_potential(
                s,
                spec=ANI,
                values={
                    "name": name,
                    "kind": kind,
                    "core_spec": ANI,
                    "sha256": "ab" * 32,
                    "n_params": n_params,
                    "supported_elements": ["C", "H", "N", "O"],
                    "periodic_ok": True,
                    "status": "ready",
                    "error": None,
                    "builtin": True,
                    "description": {},
                    "created_by": "test",
                },
            )
            s.commit()
            done = utcnow() - timedelta(minutes=5)
            for seed in range(2):
                fake_data._run(
                    s,
                    model=ANI,
                    structure="alanine-dipeptide",
                    temperature_K=300.0,
                    timestep_fs=0.5,
                    duration_ps=1.0,
                    seed=seed,
                    status="completed",
                    verdict="pass",
                    started_at=done - timedelta(minutes=1),
                    finished_at=done,
                    progress=1.0,
                    total_steps=2000,
                    drift_percent=0.2,
                    inference_ms_per_step=25.0,
                )
            s.commit()
        yield c


@pytest.fixture(scope="module")
def submit_catalog(client: TestClient) -> dict[str, Any]:
    """What the submit page's load_catalog callback stores, from the API in-process."""
    response = callback(
        client,
        "..submit-catalog.data...submit-model.options...submit-reference.options"
        "...submit-structure.options...submit-suite.options...submit-profile.options..",
        {"submit-catalog.id": "submit-catalog"},
    )
    response["catalog"] = response.pop("submit-catalog")["data"]
    return response


def test_the_picker_offers_shipped_checkpoints_with_elements_or_the_extra(
    submit_catalog: dict[str, Any],
) -> None:
    options = {o["value"]: o for o in submit_catalog["submit-model"]["options"]}
    assert {"zoo:tiny", "emt", "gfn2-xtb"} <= set(options)  # registered models stay
    ani = options["ani:1x?dtype=float32"]  # the family row is reached through the checkpoint
    assert [o["value"] for o in options.values()].count(ANI) == 1
    for spec, label, dist, extra in (
        (ANI, "ANI-1x (ani:1x)", "torchani", "ani"),
        ("sevennet:7net-0?dtype=float32", "SevenNet-0 (sevennet:7net-0)", "sevenn", "materials"),
        ("chgnet:0.3.0?dtype=float32", "CHGNet 0.3.0 (chgnet:0.3.0)", "chgnet", "materials"),
    ):
        option = options[spec]
        assert option["label"].startswith(label), option
        missing = _installed(dist) is None
        assert option["disabled"] is missing
        assert (f"needs pip install 'mdval[{extra}]'" in option["label"]) is missing
    if not ani["disabled"]:
        assert "H C N O" in ani["label"]  # ANI is H/C/N/O only, on screen
    references = {o["value"] for o in submit_catalog["submit-reference"]["options"]}
    assert "sevennet:7net-0?dtype=float32" in references


def test_the_dtype_control_builds_the_canonical_spec(submit_catalog: dict[str, Any]) -> None:
    catalog = copy.deepcopy(submit_catalog["catalog"])
    for f in catalog["families"]:
        f["installed"], f["missing"] = "1.0", None  # as on a server with every extra
    choices, value, style, info = families.option_control(catalog, ANI)
    assert [c["value"] for c in choices] == ["float32", "float64"] and value == "float32"
    assert style == {} and "elements: H C N O" in str(info)
    assert families.option_control(catalog, "emt")[2] == {"display": "none"}
    form = {
        "model": ANI,
        "model_dtype": "float64",
        "structure": "alanine-dipeptide",
        "structure_source": "builtin",
        "mode": "custom",
        "temperatures": "300",
        "timesteps": "0.5",
        "duration_ps": 0.1,
        "equilibration_ps": 0.0,
        "seeds": 1,
        "profile": "m6",
        "reference": "sevennet:7net-0?dtype=float32",
    }
    bodies, problems = plan(form, catalog)
    assert problems == [] and bodies[0]["model"] == "ani:1x?dtype=float64"
    assert bodies[0]["reference"] == "sevennet:7net-0?dtype=float32"
    # a family the server lacks cannot be queued, and the problem names the extra
    sevennet = next(f for f in catalog["families"] if f["family"] == "sevennet")
    sevennet["installed"], sevennet["missing"] = None, "sevennet: install mdval[materials]"
    bodies, problems = plan(form, catalog)
    assert bodies == [] and any("mdval[materials]" in p for p in problems)
    # the element check once the family model (here in float32) is registered: ANI has no Cu
    cu = {**form, "model_dtype": "float32", "reference": None, "structure": "cu-fcc"}
    _bodies, problems = plan(cu, catalog)
    assert any("contains Cu" in p for p in problems)


def test_with_option_keeps_the_spec_without_that_option() -> None:
    assert families.with_option("mace:x?dtype=float64", "dtype", "float32") == (
        "mace:x?dtype=float32"
    )
    assert families.with_option("emt", "dtype", "float32") == "emt"


def test_the_models_page_lists_families_and_registered_models(client: TestClient) -> None:
    assert client.get("/models").status_code == 200
    response = callback(
        client,
        "..models-families.data...models-registered.data...models-error.children..",
        {"models-load.id": "models-load"},
    )
    rows = {r["family"]: r for r in response["models-families"]["data"]}
    assert set(rows) == {"ani", "sevennet", "chgnet", "mace", "orb", "fairchem"}
    ani = rows["ani"]
    assert "H C N O" in ani["elements"] and "ANI-1x (ani:1x)" in ani["shipped"]
    assert "dtype: float32 | float64 (default float32)" in ani["options"]
    assert ani["install"] == "pip install 'mdval[ani]'"
    installed = _installed("torchani")
    assert ani["installed"] == (f"torchani {installed}" if installed else "not installed")
    assert rows["orb"]["shipped"] == "none: a local checkpoint path"
    registered = {r["spec"]: r for r in response["models-registered"]["data"]}
    assert registered[ANI]["kind"] == "family" and registered[ANI]["n_params"] == ANI_ROW[2]


def test_a_family_model_has_its_leaderboard_row_beside_the_zoo(client: TestClient) -> None:
    response = callback(
        client,
        "..lb-table.data...lb-table.style_data_conditional...lb-error.children...lb-rows.data..",
        {f"lb-{k}.value": None for k in ("suite", "structure", "temperature", "baseline")},
    )
    rows = {r["model"]: r for r in response["lb-table"]["data"]}
    assert "zoo:tiny" in rows
    row = rows[ANI]
    assert (row["name"], row["kind"], row["n_params"]) == ANI_ROW
    assert row["runs"] == 2 and row["pass_rate"] == 1.0
