"""The compare page like for like (issue 14, item 3), in-process on the embedded stack: the
teacher run is found by the core's same_start through the API (temperature counts); a
teacher run that crashed is said, "submit the teacher" only when none exists; medians stay
on the chosen structure with a line per temperature; the legend sits under the plot and the
drift axis has labelled ticks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.db.base import utcnow
from tests.dashboard import fake_data
from tests.dashboard.inprocess import callback, embedded, text_of

AD = "alanine-dipeptide"


def _add(engine: Engine, model: str, structure: str, **fields: Any) -> int:
    fields.setdefault("status", "completed")
    with Session(engine) as s:
        run = fake_data._run(
            s, model=model, structure=structure, timestep_fs=fields.pop("timestep_fs", 0.5),
            duration_ps=1.0, seed=7, finished_at=utcnow(), progress=1.0, **fields,
        )  # fmt: skip
        s.commit()
        return run.id


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    with embedded(tmp_path_factory.mktemp("compare")) as (client, engine):
        ids = _populate(engine)
        yield client, ids


def _populate(engine: Engine) -> dict[str, int]:
    student = {"reference_spec": "gfn2-xtb"}
    return {
        "student": _add(engine, "zoo:original", AD, temperature_K=300.0, drift_percent=0.4,
                        **student),
        "hot": _add(engine, "zoo:original", AD, temperature_K=400.0, timestep_fs=1.0,
                    drift_percent=2.0, batch_size=8, inference_ms_per_step=80.0,
                    inference_ms_per_replica_step=10.0, **student),
        "water": _add(engine, "zoo:original", "H2O", temperature_K=300.0, drift_percent=50.0,
                      **student),
        "teacher_crashed": _add(engine, "gfn2-xtb", AD, temperature_K=300.0, status="crashed",
                                failure_reason="bond collapse: max |Δb| 0.62 Å > 0.5 Å"),
        "teacher_other_T": _add(engine, "gfn2-xtb", AD, temperature_K=350.0),
    }  # fmt: skip


def _callback(client: TestClient, output: str, structure: str) -> dict[str, Any]:
    inputs = {"comp-models.value": ["zoo:original"], "comp-structure.value": structure}
    return callback(client, output, inputs)


TRAJECTORIES = (
    "..comp-rmsd.figure...comp-hr.figure...comp-phipsi.figure...comp-ke.figure"
    "...comp-pairs.children.."
)
SUMMARIES = "..comp-drift.figure...comp-force.figure...comp-pareto.figure...comp-note.children.."


def test_the_api_finds_teacher_runs_by_the_core_s_start(
    stack: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = stack
    body = client.get(f"/api/v1/runs/{ids['student']}/same-start").json()
    assert body["model"] == "gfn2-xtb" and "temperature_K" in body["fields"]
    assert [(r["id"], r["status"]) for r in body["items"]] == [(ids["teacher_crashed"], "crashed")]
    r = client.get("/api/v1/compare", params={"a": ids["student"], "b": ids["teacher_other_T"]})
    assert r.status_code == 422 and "temperature_K: 300.0 vs 350.0" in r.json()["detail"]


def test_a_crashed_teacher_run_is_said(stack: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = stack
    text = text_of(_callback(client, TRAJECTORIES, AD)["comp-pairs"]["children"])
    assert f"#{ids['teacher_crashed']}" in text and "crashed: bond collapse" in text
    assert "submit the teacher" not in text.lower()
    # on water no teacher run exists at all: then, and only then, ask for it
    water = _callback(client, TRAJECTORIES, "H2O")["comp-pairs"]["children"]
    assert "submit the teacher" in text_of(water)


def test_medians_stay_on_the_structure_a_line_per_temperature(
    stack: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ids = stack
    drift = _callback(client, SUMMARIES, AD)["comp-drift"]["figure"]
    lines = {t["name"]: t["y"] for t in drift["data"]}
    assert lines == {"zoo:original · 300 K": [0.4], "zoo:original · 400 K": [2.0]}  # no H2O 50 %
    layout = drift["layout"]
    assert AD in layout["title"]["text"]
    assert layout["legend"]["y"] < 0 <= layout["title"].get("y", 1)  # legend under the plot
    ticks = layout["yaxis"]["tickvals"]
    assert len(ticks) >= 2 and ticks[0] <= 0.4 and ticks[-1] >= 2.0
    assert layout["yaxis"]["ticktext"] == [f"{t:g}" for t in ticks]
    assert "%" in layout["yaxis"]["title"]["text"] and "fs" in layout["xaxis"]["title"]["text"]


def test_the_leaderboard_shows_per_replica_time_and_batch_size(
    stack: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ids = stack
    output = (
        "..lb-table.data...lb-table.style_data_conditional...lb-error.children...lb-rows.data.."
    )
    filters = {f"lb-{k}.value": None for k in ("suite", "structure", "temperature", "baseline")}
    rows = {r["model"]: r for r in callback(client, output, filters)["lb-table"]["data"]}
    row = rows["zoo:original"]
    assert row["batch"] == "8" and row["median_inference_ms_per_replica_step"] == 10.0
