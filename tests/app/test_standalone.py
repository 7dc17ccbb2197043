"""The embedded default end to end (SQLite, filesystem broker, threads workers, one port),
and the CI client ``mdval submit --wait`` against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from tests.utils.service import standalone_server, wait_for

pytestmark = pytest.mark.service

ADMIN = "standalone-test-admin-token-0123456789"


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("standalone")
    with standalone_server(
        data, ADMIN, MDVAL_DASHBOARD_FACTORY="", MDVAL_HEARTBEAT_INTERVAL_S="1"
    ) as url:
        yield url
    assert "admin token: " + ADMIN in (data / "standalone.log").read_text()
    assert (data / "mdval.sqlite").is_file()


def test_standalone_runs_a_validation_to_completion(standalone: str) -> None:
    api = httpx.Client(
        base_url=f"{standalone}/api/v1", headers={"Authorization": f"Bearer {ADMIN}"}
    )
    health = api.get("/health").json()
    assert health["database"]["detail"] == "sqlite" and health["broker"]["ok"]
    r = api.post(
        "/runs",
        json={"model": "emt", "structure": "cu-fcc", "reference": "emt", "duration_ps": 0.1,
              "equilibration_ps": 0.0, "timestep_fs": 2.0, "record_every": 5,
              "reference_every": 10},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]

    def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/runs/{run_id}").json()
        return body if body["status"] not in ("queued", "running") else None

    run = wait_for(finished, timeout=120, interval=0.5, what="the standalone run")
    assert run["status"] == "completed", run["failure_reason"]
    # emt against itself is its own control; 0.1 ps cannot show the 5 ps m6 asks for
    assert run["summary"]["verdict"] == "inconclusive"
    assert run["summary"]["control"]["is_self"] is True
    assert api.get(f"/runs/{run_id}/thermo").json()["n"] == 11
    assert api.get(f"/runs/{run_id}/force-errors").json()["n"] == 6
    assert api.get(f"/runs/{run_id}/trajectory").status_code == 200
    assert api.post("/runs", json={"model": "emt", "structure": "H2O"}).status_code == 422


def submit(standalone: str, *args: str) -> Any:
    return CliRunner().invoke(
        cli,
        ["submit", "--server", standalone, "--token", ADMIN, "--wait", "--poll-s", "0.5", *args],
    )


def test_submit_wait_exits_0_when_the_model_passes(standalone: str) -> None:
    # 5 ps of EMT copper at 8 fs: the shortest clean run that meets every m6 criterion
    result = submit(
        standalone, "--model", "emt", "--structure", "cu-fcc", "--duration-ps", "5",
        "--timestep-fs", "8", "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "verdict: pass" in result.output


def test_submit_wait_exits_3_and_names_what_is_inconclusive(standalone: str) -> None:
    # 0.4 ps cannot show the 5 ps m6 asks for: the table names the criterion
    result = submit(
        standalone, "--model", "emt", "--structure", "cu-fcc", "--duration-ps", "0.4",
        "--timestep-fs", "8", "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "inconclusive: stable_duration" in result.output


def test_submit_wait_exits_1_when_the_model_fails(standalone: str) -> None:
    # Lennard-Jones on a water molecule falls apart at once: a crash is a failed verdict
    result = submit(standalone, "--model", "lj", "--structure", "H2O", "--duration-ps", "1")
    assert result.exit_code == 1, result.output
    assert "verdict: fail" in result.output


def test_submit_exits_2_on_bad_input(standalone: str, tmp_path: Path) -> None:
    result = submit(standalone, "--model", "emt", "--structure", "H2O")
    assert result.exit_code == 2
    bogus = tmp_path / "model.pt"
    bogus.write_bytes(b"not torchscript")
    result = submit(standalone, "--model", str(bogus), "--structure", "H2O")
    assert result.exit_code == 2 and "not a TorchScript file" in result.output
