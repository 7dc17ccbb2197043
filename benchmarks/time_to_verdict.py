"""Time to a verdict through the service: a student's suite submitted the way a CI
pipeline does (``mdval submit --suite S --wait``) to ``mdval standalone``, from the submit
to the exit code (issue 15, item 4).

    .venv/bin/python benchmarks/time_to_verdict.py                      # m6-quick, 2 students
    .venv/bin/python benchmarks/time_to_verdict.py --models zoo:tiny --suite demo
    .venv/bin/python benchmarks/time_to_verdict.py --json docs/bench/time-to-verdict.json

Starts the service on a fresh ``--data-dir`` (so no control is cached), then submits each
model of ``--models`` in turn, waiting for each: the first pays for the suite's controls
(the reference run under each cell's protocol, cached by content), the next finds them
cached and pays only for itself. Prints, and writes as JSON, each submission's wall time
from the submit to the exit code, the exit code, the runs' verdicts, how long the runs
took on the worker (first start to last finish) and how many controls the cache held
after it. Exit status 0 when every submission ended within ``--limit-s`` (default 600).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from standalone_proc import standalone, wait_until_up

REPO = Path(__file__).resolve().parents[1]
TOKEN = "time-to-verdict-admin-token-0123456789abcdef"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/mdval-time-to-verdict"))
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--suite", default="m6-quick")
    parser.add_argument("--models", default="zoo:tiny,zoo:ultra-tiny",
                        help="comma-separated; submitted one after another")  # fmt: skip
    parser.add_argument("--limit-s", type=float, default=600.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    url = f"http://127.0.0.1:{args.port}"
    api = httpx.Client(base_url=f"{url}/api/v1",
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)  # fmt: skip
    report: dict[str, Any] = {
        "suite": args.suite,
        "limit_s": args.limit_s,
        "context": _context(args.repo),
        "submissions": [],
    }
    with standalone(args.repo, args.data_dir, args.port, TOKEN) as proc:
        t_up = time.monotonic()
        wait_until_up(api, proc)
        report["context"]["service_up_s"] = round(time.monotonic() - t_up, 1)
        for model in models:
            report["submissions"].append(_submit(args, api, url, model))
    report["context"]["load_average_end"] = list(os.getloadavg())
    met = all(s["wall_s"] <= args.limit_s and s["exit_code"] in (0, 1, 3)
              for s in report["submissions"])  # fmt: skip
    report["met"] = met
    text = json.dumps(report, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if met else 1


def _submit(args: argparse.Namespace, api: httpx.Client, url: str, model: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "app.cli", "submit", "--server", url, "--token", TOKEN,
               "--model", model, "--suite", args.suite, "--wait", "--poll-s", "2"]  # fmt: skip
    log = args.data_dir / f"submit-{model.replace(':', '_')}.log"
    print(f"submitting {model} ({args.suite}) …", flush=True)
    t0 = time.monotonic()
    with log.open("wb") as out:
        rc = subprocess.call(command, cwd=args.repo, stdout=out, stderr=subprocess.STDOUT)
    wall = time.monotonic() - t0
    runs = api.get("/runs", params={"model": model, "suite": args.suite,
                                    "limit": 1000}).json()["items"]  # fmt: skip
    started = [_time(r["started_at"]) for r in runs if r["started_at"]]
    finished = [_time(r["finished_at"]) for r in runs if r["finished_at"]]
    controls = args.data_dir / "artifacts" / "controls"
    result = {
        "model": model,
        "wall_s": round(wall, 1),
        "exit_code": rc,
        "runs": len(runs),
        "verdicts": dict(Counter(str(r["verdict"]) for r in runs)),
        "worker_s": round(max(finished) - min(started), 1) if started and finished else None,
        "controls_cached_after": _count_controls(controls),
        "log": str(log),
    }
    print(f"{model}: exit {rc} after {wall:.0f} s — {result['verdicts']}", flush=True)
    return result


def _count_controls(directory: Path) -> int | None:
    """Controls in the cache: one folder (or file) per key; None when there is no cache."""
    if not directory.is_dir():
        return None
    return sum(1 for _ in directory.iterdir())


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _context(repo: Path) -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": commit,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_start": list(os.getloadavg()),
    }


if __name__ == "__main__":
    raise SystemExit(main())
