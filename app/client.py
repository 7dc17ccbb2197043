"""The CI client behind ``mdval submit``: upload, queue, follow, print the verdict.

Exit codes (as every mdval command): 0 every run passed; 1 a run failed its criteria (a
crash is a failed verdict); 2 bad input (the server answered 4xx); 3 inconclusive (some run
is inconclusive, protocol invalid or was cancelled, none failed); 4 internal error (server
unreachable or 5xx, a run that failed: the system broke, not the model).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4
FINISHED = ("completed", "crashed", "failed", "cancelled")
HTTP_TIMEOUT_S = 120.0
RETRIES = 3

#: CI logs are wide; a narrow default would wrap the verdict table.
TABLE_WIDTH = 140
console = Console(stderr=True)
out = Console(width=TABLE_WIDTH)


class ClientError(Exception):
    """Something a person must fix; the message says what. ``exit_code`` 2 for a request
    the server refused (4xx), 4 when the server could not answer."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class SubmitOptions:
    server: str
    token: str
    model: str
    suite: str | None = None
    structure: str | None = None
    reference: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    wait: bool = False
    poll_s: float = 5.0
    timeout_s: float = 86400.0


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
        detail = body.get("detail") if isinstance(body, dict) else body
    except ValueError:
        detail = response.text[:500]
    return f"HTTP {response.status_code}: {detail}"


class Api:
    def __init__(self, server: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=server.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=HTTP_TIMEOUT_S,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """JSON answer of a call; transport errors are retried (POSTs carry an idempotency
        key or are idempotent uploads, so a retry never queues twice)."""
        for attempt in range(RETRIES):
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == RETRIES - 1:
                    raise ClientError(f"cannot reach the server: {exc}", EXIT_INTERNAL) from exc
                time.sleep(2**attempt)
                continue
            if response.status_code >= 400:
                code = EXIT_INTERNAL if response.status_code >= 500 else EXIT_ERROR
                raise ClientError(_error_text(response), code)
            return response.json()
        raise ClientError("unreachable")  # pragma: no cover


def upload_if_file(api: Api, model: str, poll_s: float) -> str:
    """The spec to submit: ``model`` itself, or the spec of the uploaded file."""
    path = Path(model)
    if not path.is_file():
        return model
    console.print(f"uploading {path} ({path.stat().st_size / 1e6:.1f} MB)")
    with path.open("rb") as fh:
        body = api.request(
            "POST", "/models", files={"file": (path.name, fh)}, data={"name": _name_for(path)}
        )
    while body["status"] == "checking":
        time.sleep(poll_s)
        body = api.request("GET", f"/models/{body['spec']}")
    if body["status"] != "ready":
        raise ClientError(f"model rejected: {body.get('error')}")
    console.print(f"model registered as {body['spec']}")
    return str(body["spec"])


def _name_for(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    return f"{path.stem}-{digest}"[:100]


def run_submit(options: SubmitOptions) -> int:
    try:
        return _submit(options)
    except ClientError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return exc.exit_code
    except OSError as exc:  # an unreadable model file, say: the user's to fix
        console.print(f"[red]error:[/red] {exc}")
        return EXIT_ERROR
    except Exception as exc:  # never a traceback with 1, the code of a failed verdict
        console.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def _submit(options: SubmitOptions) -> int:
    if (options.suite is None) == (options.structure is None):
        raise ClientError("give exactly one of --suite or --structure")
    api = Api(options.server, options.token)
    spec = upload_if_file(api, options.model, options.poll_s)
    body: dict[str, Any] = {"model": spec, **options.parameters}
    if options.suite:
        body["suite"] = options.suite
    else:
        body["structure"] = options.structure
    if options.reference:
        body["reference"] = options.reference
    answer = api.request(
        "POST", "/runs", json=body, headers={"Idempotency-Key": f"cli-{uuid.uuid4()}"}
    )
    ids = [r["id"] for r in answer["runs"]]
    console.print(f"queued {len(ids)} run(s): {', '.join(map(str, ids))}")
    if not options.wait:
        out.print_json(data={"submission_id": answer["submission_id"], "run_ids": ids})
        return EXIT_PASS
    runs = _follow(api, answer["submission_id"], len(ids), options)
    return _report(api, runs, options.suite)


def _follow(api: Api, submission_id: str, n: int, options: SubmitOptions) -> list[dict[str, Any]]:
    deadline = time.monotonic() + options.timeout_s
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
    )
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("running", total=100.0 * n)
        while True:
            runs = api.request(
                "GET", "/runs", params={"submission_id": submission_id, "limit": 1000}
            )["items"]
            done = sum(1 for r in runs if r["status"] in FINISHED)
            progress = sum(
                100.0 if r["status"] in FINISHED else r["progress_percent"] for r in runs
            )
            bar.update(task, completed=progress, description=f"{done}/{n} runs finished")
            if done == len(runs) == n:
                return sorted(runs, key=lambda r: r["id"])
            if time.monotonic() > deadline:
                raise ClientError(f"gave up after {options.timeout_s:g} s; runs still going")
            time.sleep(options.poll_s)


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


#: The criterion levels that explain each verdict, in the order they are named.
_EXPLAINING = {"fail": ("fail",), "inconclusive": ("inconclusive",),
               "protocol invalid": ("protocol invalid",)}  # fmt: skip


def _why(api: Api, run: dict[str, Any]) -> str:
    """The criteria behind a run's verdict ("fail: inference_time"), from its summary; empty
    for a pass or a run without criteria."""
    levels = _EXPLAINING.get(run.get("verdict") or "")
    if not levels:
        return ""
    summary = api.request("GET", f"/runs/{run['id']}").get("summary") or {}
    named = [c["name"] for c in summary.get("criteria") or [] if c.get("level") in levels]
    return f"{run['verdict']}: {', '.join(named)}" if named else ""


def _report(api: Api, runs: list[dict[str, Any]], suite: str | None) -> int:
    table = Table(title="mdval verdicts")
    for col in (
        "run",
        "structure",
        "T K",
        "dt fs",
        "ps",
        "status",
        "verdict",
        "drift %",
        "F RMSE eV/Å",
        "ms/step",
        "reason",
    ):
        table.add_column(col)
    for r in runs:
        m = r["metrics"]
        colour = {"pass": "green", "fail": "red"}.get(r["verdict"] or "", "yellow")
        table.add_row(
            str(r["id"]),
            r["structure"],
            _fmt(r["temperature_K"]),
            _fmt(r["timestep_fs"]),
            _fmt(r["duration_ps"]),
            r["status"],
            f"[{colour}]{r['verdict'] or '–'}[/{colour}]",
            _fmt(m["drift_percent"]),
            _fmt(m["force_rmse_eV_per_A"]),
            _fmt(m["inference_ms_per_step"]),
            (r["failure_reason"] or _why(api, r))[:60],
        )
    out.print(table)
    if suite:
        board = api.request("GET", "/leaderboard", params={"suite": suite})
        model = runs[0]["model"] if runs else None
        for row in board["rows"]:
            if row["model"] == model and row["recommendation"]:
                out.print(
                    f"recommendation for {model} on {suite}: [bold]{row['recommendation']}[/bold]"
                )
    verdicts = [r["verdict"] for r in runs]
    if any(r["status"] == "failed" for r in runs):
        console.print("[red]a run failed (the system broke, not the model): no verdict[/red]")
        return EXIT_INTERNAL
    if "fail" in verdicts:
        out.print("[red]verdict: fail[/red]")
        return EXIT_FAIL
    if all(v == "pass" for v in verdicts):
        out.print("[green]verdict: pass[/green]")
        return EXIT_PASS
    undecided = sum(1 for r in runs if r["verdict"] != "pass")
    out.print(
        f"[yellow]verdict: inconclusive[/yellow] ({undecided} run(s) inconclusive, protocol "
        "invalid or cancelled; see each run's criteria for what is needed)"
    )
    return EXIT_INCONCLUSIVE
