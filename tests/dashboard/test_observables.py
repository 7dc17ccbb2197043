"""The run page's observables, control and warnings, and the compare page's survival
figure and observables table, from what the API returns (in-process, SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from dash import html
from fastapi.testclient import TestClient
from plotly.utils import PlotlyJSONEncoder

from app.core.config import Settings
from app.db.session import make_engine
from app.main import create_app
from dashboard import comparison_figures as cf
from dashboard import observables as obs
from tests.dashboard import fake_data, server


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Any]]:
    data = tmp_path_factory.mktemp("dash-obs")
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    seeded = fake_data.populate_observables(engine)
    settings = Settings(
        database_url=server.database_url(data),
        data_dir=data,
        artifacts_dir=data / "artifacts",
        reaper_interval_s=0,
    )
    with TestClient(create_app(settings, engine=engine)) as c:
        yield c, seeded
    engine.dispose()


def _callback(client: TestClient, output: str, inputs: list[Any], state: list[Any]) -> Any:
    specs = output.strip(".").split("...")
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in specs]
    body = {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": [],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.text
    return r.json()["response"]


def _texts(component: Any) -> str:
    """Every string in a serialised Dash component tree."""
    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


AUTH = [{"id": "shell-auth", "property": "data", "value": None}]


def test_the_api_returns_the_summary_blocks(case: tuple[TestClient, Any]) -> None:
    client, seeded = case
    summary = client.get(f"/api/v1/runs/{seeded.run_id}").json()["summary"]
    assert summary["observables"]["rdf_w1_A"] == fake_data.STUDENT_OBSERVABLES["rdf_w1_A"]
    assert summary["control"]["valid"] is True and summary["warnings"]


def test_observables_table_has_units_values_and_noise() -> None:
    table = obs.observables_table(fake_data.STUDENT_OBSERVABLES, table_id="t")
    text = _texts(table)
    for unit in ("(Å)", "(°)", "(—)", "(THz)"):
        assert unit in text
    assert obs.VS_CONTROL in text and obs.NOISE in text
    assert "0.0312 Å" in text and "0.0127 Å" in text and "2.36 THz" in text
    assert "0.142" in text and "0.058" in text  # dimensionless JS divergence, no unit
    none = obs.observables_table(None, table_id="t")
    assert isinstance(none, html.P) and none.children == obs.NO_CONTROL


@pytest.mark.parametrize(
    ("control", "valid", "own"),
    [
        ({"expected": True, "valid": True, "is_self": True}, "yes", "its own control"),
        ({"expected": True, "valid": False, "key": "abc"}, "no", "control run abc"),
        ({"expected": True, "valid": None, "evidence": ["no control run"]}, "undecided", "no"),
        ({"expected": False}, None, "no control expected"),
    ],
)
def test_control_summary_in_words(control: dict[str, Any], valid: Any, own: str) -> None:
    s = obs.control_summary(control)
    assert s["valid"] == valid and own in s["own"]


def test_run_page_shows_observables_control_and_warnings(case: tuple[TestClient, Any]) -> None:
    client, seeded = case
    output = ".." + "...".join(_run_outputs()) + ".."
    response = _callback(
        client,
        output,
        [{"id": "run-id", "property": "data", "value": seeded.run_id}],
        AUTH,
    )
    text = _texts(response)
    assert obs.VS_CONTROL in text and "0.0312 Å" in text
    assert "Control valid: " in text and '"yes"' in text
    assert "the control passes energy_drift" in text
    assert fake_data.STUDENT_WARNINGS[1][:40] in text
    lone = _callback(
        client,
        output,
        [{"id": "run-id", "property": "data", "value": seeded.no_control_id}],
        AUTH,
    )
    text = _texts(lone)
    assert obs.NO_CONTROL in text and "undecided" in text


def _run_outputs() -> list[str]:
    from dashboard.pages.run import _OUTPUTS

    return list(_OUTPUTS)


def test_survival_figure_has_step_lines_and_units() -> None:
    cell = {
        "n_runs": 3,
        "n_crashed": 2,
        "survival": {"time_ps": [0.0, 1.0, 2.0, 5.0], "alive_fraction": [1.0, 0.67, 0.33, 0.33]},
        "time_to_failure": {"median_ps": 2.0, "ci95_low_ps": 0.0, "ci95_high_ps": None},
    }
    fig = cf.survival_figure({"zoo:tiny": cell, "gfn2-xtb (teacher)": None})
    assert [t.name for t in fig.data] == ["zoo:tiny · 3 runs, 2 crashed"]
    assert fig.data[0].line.shape == "hv"
    assert fig.layout.xaxis.title.text == "production time (ps)"
    assert "fraction of replicas alive" in fig.layout.yaxis.title.text
    assert list(fig.layout.yaxis.range) == [0, 1.05]
    assert cf.survival_figure({}).layout.annotations  # a message, no traces


def test_compare_page_survival_and_observables(case: tuple[TestClient, Any]) -> None:
    client, seeded = case
    response = _callback(
        client,
        "..comp-survival.figure...comp-observables.children...comp-cell.children..",
        [
            {"id": "comp-models", "property": "value", "value": [seeded.student]},
            {"id": "comp-structure", "property": "value", "value": seeded.structure},
        ],
        AUTH,
    )
    fig = response["comp-survival"]["figure"]
    names = [t["name"] for t in fig["data"]]
    assert names == [
        f"{seeded.student} · 4 runs, 2 crashed",
        f"{seeded.teacher} (teacher) · 3 runs, 0 crashed",
    ]
    student = fig["data"][0]
    assert student["y"][0] == 1.0 and student["y"][-1] == pytest.approx(0.5)
    assert fig["layout"]["xaxis"]["title"]["text"] == "production time (ps)"
    table = _texts(response["comp-observables"]["children"])
    assert f"run #{seeded.run_id}" in table and f"run #{seeded.teacher_run_id}" in table
    assert "0.0312 Å" in table and obs.NOISE in table
    assert "300 K" in _texts(response["comp-cell"]["children"])
