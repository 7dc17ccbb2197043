"""The analysis endpoints: frames, h(r) / φ/ψ / bonds, the comparison of two runs, E_kin,
a profile's thresholds and criteria levels — the core's numbers, through the API's read
access. Also the dashboard's page shows exactly the API's h(r), which is the core's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ase.io import read, write
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.session import make_engine
from app.main import create_app
from mdval.metrics.comparison import distance_histogram
from mdval.metrics.stability import bond_pairs
from tests.dashboard import fake_data, server

CU = Path(__file__).resolve().parents[2] / "mdval" / "structures" / "data" / "cu_fcc.xyz"


def _cu_runs(engine: Any, artifacts: Path) -> tuple[int, int]:
    """Two finished runs on cu-fcc from the same start, with trajectories."""
    atoms = read(CU)
    ids = []
    for k, model in enumerate(("emt", "gfn2-xtb")):
        with Session(engine) as s:
            run = fake_data._run(
                s, model=model, structure="cu-fcc", temperature_K=300.0, timestep_fs=1.0,
                duration_ps=0.05, status="completed", seed=3,
            )  # fmt: skip
            s.flush()
            path = artifacts / "runs" / str(run.id) / "attempt-1" / "trajectory.extxyz"
            path.parent.mkdir(parents=True, exist_ok=True)
            rng = np.random.default_rng(k)
            for f in range(4):
                a = atoms.copy()
                a.positions += rng.normal(0, 0.05, a.positions.shape)
                a.info.update({"step": 10 * f, "time_ps": 0.01 * f})
                write(path, a, format="extxyz", append=f > 0)
            run.trajectory_path = str(path.resolve())
            ids.append(run.id)
            s.commit()
    return ids[0], ids[1]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    data = tmp_path_factory.mktemp("analysis")
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    long = fake_data.populate_long_run(engine, data / "artifacts", duration_ps=2.0)
    a, b = _cu_runs(engine, data / "artifacts")
    settings = Settings(
        database_url=server.database_url(data),
        data_dir=data,
        artifacts_dir=data / "artifacts",
        reaper_interval_s=0,
        read_requires_token=True,
    )
    with TestClient(create_app(settings, engine=engine)) as c:
        c.headers["Authorization"] = f"Bearer {server.ADMIN_TOKEN}"
        paths = {
            k: data / "artifacts" / "runs" / str(v) / "attempt-1" / "trajectory.extxyz"
            for k, v in (("cu_a", a), ("cu_b", b))
        }
        ids = {"cu_a": a, "cu_b": b, "student": long.run_id, "teacher": long.teacher_id}
        yield c, {**ids, "paths": paths}
    engine.dispose()


def _core_hr(run_path: Path) -> np.ndarray:
    frames = read(run_path, index=":")
    h, _ = distance_histogram(
        np.array([f.positions for f in frames]), cell=frames[0].cell, pbc=frames[0].pbc
    )
    return h


def test_reads_need_a_token_when_the_server_says_so(setup: tuple[TestClient, Any]) -> None:
    client, ids = setup
    bare = {"Authorization": ""}
    for path in (f"/api/v1/runs/{ids['cu_a']}/analysis", "/api/v1/profiles/m6"):
        assert client.get(path, headers=bare).status_code == 401


def test_frames_carry_the_core_s_periodic_bonds(setup: tuple[TestClient, Any]) -> None:
    client, ids = setup
    body = client.get(f"/api/v1/runs/{ids['cu_a']}/frames").json()
    (frame,) = body["frames"]
    assert frame["step"] == 30 and len(frame["positions_A"]) == 32 and frame["pbc"] == [True] * 3
    atoms = read(CU)
    assert len(frame["bonds"]) == len(bond_pairs(atoms)[0]) == 192
    first = client.get(f"/api/v1/runs/{ids['cu_a']}/frames", params={"index": 0}).json()
    assert first["frames"][0]["step"] == 0
    missing = client.get(f"/api/v1/runs/{ids['cu_a']}/frames", params={"index": 99})
    assert missing.status_code == 404 and missing.json()["field"] == "index"


def test_h_of_r_of_a_periodic_run_is_the_core_s(setup: tuple[TestClient, Any]) -> None:
    client, ids = setup
    body = client.get(f"/api/v1/runs/{ids['cu_a']}/analysis").json()
    np.testing.assert_allclose(body["hr"]["h_per_A"], _core_hr(ids["paths"]["cu_a"]), atol=1e-12)
    assert body["n_frames"] == 4 and body["n_bonds"] == 192 and body["phi_psi_deg"] is None


def test_compare_two_runs(setup: tuple[TestClient, Any]) -> None:
    client, ids = setup
    body = client.get("/api/v1/compare", params={"a": ids["student"], "b": ids["teacher"]}).json()
    assert len(body["rmsd_A"]) == len(body["time_ps"]) > 10
    assert np.asarray(body["model"]["phi_psi_deg"]).shape[1] == 2
    assert body["phi_psi_js_divergence"] is not None and 0 <= body["hr_error"] <= 2
    r = client.get("/api/v1/compare", params={"a": ids["student"], "b": 10**9})
    assert r.status_code == 404 and r.json()["field"] == "b"


def test_ekin_is_thinned(setup: tuple[TestClient, Any]) -> None:
    client, ids = setup
    body = client.get(f"/api/v1/runs/{ids['student']}/ekin", params={"max_points": 50}).json()
    assert len(body["time_ps"]) == len(body["ekin_eV"]) == 50


def _levels(client: TestClient, metrics: dict[str, Any], **kw: Any) -> dict[str, str]:
    r = client.post("/api/v1/profiles/m6/levels", json={"items": [metrics], **kw})
    assert r.status_code == 200, r.text
    return {row["name"]: row["level"] for row in r.json()["items"][0]}


@pytest.mark.parametrize(
    ("value", "level"),
    [(0.5, "target"), (3.0, "acceptable"), (-0.5, "target"), (None, "not_evaluated")],
)
def test_drift_levels_of_the_m6_profile(
    setup: tuple[TestClient, Any], value: float | None, level: str
) -> None:
    assert _levels(setup[0], {"drift_percent": value})["energy_drift"] == level


def test_a_large_drift_fails_once_resolved_and_on_thresholds_alone(
    setup: tuple[TestClient, Any],
) -> None:
    client = setup[0]
    assert _levels(client, {"drift_percent": 7.0})["energy_drift"] == "inconclusive"
    resolved = {"drift_percent": 7.0, "drift_resolved": True}
    assert _levels(client, resolved)["energy_drift"] == "fail"
    assert _levels(client, {"drift_percent": 7.0}, evidence=False)["energy_drift"] == "fail"


def test_device_thresholds_and_booleans(setup: tuple[TestClient, Any]) -> None:
    client = setup[0]
    metrics = {"inference_ms_per_step": 30.0, "crashed": False, "stable_duration_ps": 6.0}
    rows = _levels(client, metrics, device="NVIDIA H100")
    assert rows["inference_time"] == "acceptable" and rows["no_crash"] == "target"
    assert rows["stable_duration"] == "acceptable"
    force = {"force_rmse_eV_per_A": 0.25}
    assert _levels(client, force, evidence=False)["force_rmse"] == "acceptable"
    assert _levels(client, force)["force_rmse"] == "inconclusive"  # too few frames known
    enough = {**force, "n_reference_frames": 5, "reference_skipped_fraction": 0.0}
    assert _levels(client, enough)["force_rmse"] == "acceptable"
    gpu = client.get("/api/v1/profiles/m6", params={"device": "cuda"}).json()
    assert gpu["device"] == "gpu" and gpu["definition"]["name"] == "m6"
    bad = client.post("/api/v1/profiles/m6/levels", json={"items": [{"crashed": "maybe"}]})
    assert bad.status_code == 422
    assert client.get("/api/v1/profiles/nope").status_code == 404


def test_the_comparison_page_shows_the_api_s_h_of_r(setup: tuple[TestClient, Any]) -> None:
    """Done-when (2): the h(r) traces the page draws for a periodic cu-fcc pair are the
    API's numbers, and those are the core's (minimum image)."""
    import asyncio

    from dashboard import comparison_figures as cf
    from dashboard.compare_data import trajectory_comparison

    client, ids = setup
    runs = {k: client.get(f"/api/v1/runs/{ids[k]}").json() for k in ("cu_a", "cu_b")}
    pairs = {"emt": (runs["cu_a"], runs["cu_b"])}
    with pytest.MonkeyPatch.context() as mp:
        # the callbacks' API calls go through the in-process transport of this app
        from dashboard import api

        mp.setattr(api, "_binding", api._Binding(asgi_app=client.app))
        data = asyncio.run(trajectory_comparison(pairs, server.ADMIN_TOKEN))
    fig = cf.hr_figure(data["hr"])
    traces = {t.name: np.asarray(t.y, float) for t in fig.data}
    assert set(traces) == {"gfn2-xtb (teacher)", "emt"}
    for name, key in (("emt", "cu_a"), ("gfn2-xtb (teacher)", "cu_b")):
        np.testing.assert_allclose(traces[name], _core_hr(ids["paths"][key]))
