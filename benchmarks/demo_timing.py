"""Time ``mdval standalone --demo``: launch to a verdict on every demo run, and how long a
user's run submitted meanwhile waits to start.

    .venv/bin/python benchmarks/demo_timing.py                       # this checkout
    .venv/bin/python benchmarks/demo_timing.py --repo /tmp/fresh     # a fresh clone

Starts ``python -m app.cli standalone --demo`` in ``--repo`` on a fresh ``--data-dir`` (no
MDVAL_* variables but the admin token), polls the API every second, submits the user's run
(``zoo:tiny`` on alanine dipeptide, 0.5 ps after 0.1 ps NVT, GFN2-xTB reference) as soon as
the first demo run is running, and prints each event with its time from launch (the first
energy-curve points of a demo run among them); the leaderboard of suite ``demo`` at the
end. Exit status 0 when every demo run has a verdict within ``--limit-s`` and the user's
run left ``queued`` within 30 s.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import httpx
from standalone_proc import standalone

REPO = Path(__file__).resolve().parents[1]
TOKEN = "demo-timing-admin-token-0123456789abcdef"
USER_RUN = {"model": "zoo:tiny", "structure": "alanine-dipeptide", "reference": "gfn2-xtb",
            "duration_ps": 0.5, "equilibration_ps": 0.1}  # fmt: skip
USER_START_LIMIT_S = 30.0
ACTIVE = ("queued", "running")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/mdval-demo-timing"))
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--limit-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    api = httpx.Client(base_url=f"http://127.0.0.1:{args.port}/api/v1",
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)  # fmt: skip
    with standalone(args.repo, args.data_dir, args.port, TOKEN, demo=True):
        return _watch(api, t0, args.limit_s)


def _watch(api: httpx.Client, t0: float, limit_s: float) -> int:
    def say(text: str) -> None:
        print(f"{time.monotonic() - t0:6.1f} s  {text}", flush=True)

    seen: set[int] = set()
    curve = False
    user: int | None = None
    submitted = waited = done = None
    while time.monotonic() - t0 < limit_s + 120:
        time.sleep(1)
        try:
            runs: list[dict[str, Any]] = api.get("/runs", params={"suite": "demo"}).json()["items"]
        except (httpx.HTTPError, KeyError, ValueError):
            continue  # not up yet
        if user is None and any(r["status"] == "running" for r in runs):
            r = api.post("/runs", json=USER_RUN)
            r.raise_for_status()
            user, submitted = r.json()["id"], time.monotonic()
            say(f"{len(runs)} demo runs queued; user run {user} submitted")
        if not curve:  # the first thermo records of a demo run: its energy curve starts
            for run in runs:
                thermo = api.get(f"/runs/{run['id']}/thermo", params={"limit": 1}).json()
                if thermo.get("n"):
                    curve = True
                    say(f"first energy-curve points (demo run {run['id']})")
                    break
        if user is not None and waited is None:
            body = api.get(f"/runs/{user}").json()
            if body["status"] != "queued":
                waited = time.monotonic() - (submitted or 0.0)
                say(f"user run {user} {body['status']} on queue {body['queue']} "
                    f"after {waited:.1f} s")  # fmt: skip
        for run in runs:
            if run["status"] not in ACTIVE and run["id"] not in seen:
                seen.add(run["id"])
                say(f"demo run {run['id']} {run['model']} on {run['structure']}: "
                    f"{run['status']}, verdict {run['verdict']}")  # fmt: skip
        if len(runs) >= 8 and not any(r["status"] in ACTIVE for r in runs):
            done = time.monotonic() - t0
            say("every demo run has a verdict")
            break
    for row in api.get("/leaderboard", params={"suite": "demo"}).json()["rows"]:
        print(f"leaderboard: {row['name']}: {row['runs']} runs, pass rate "
              f"{row['pass_rate']}, {row['recommendation']}")  # fmt: skip
    ok = done is not None and done <= limit_s and waited is not None
    return 0 if ok and waited is not None and waited <= USER_START_LIMIT_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
