"""A long schemathesis run against the API (both apps), failing on any 5xx.

    .venv/bin/python benchmarks/fuzz.py --cases 100            # about 10,000 cases
    .venv/bin/python benchmarks/fuzz.py --cases 100 --app sqlite

It runs ``tests/app/test_fuzz.py`` (the CI fuzz test, a few hundred cases) with
``MDVAL_FUZZ_CASES`` cases per operation and generation mode instead of 5: the same
fixtures (a fresh Postgres database, the shared Redis under a prefix of its own, one
validate-only Celery worker), and runs and benchmarks recorded, never published. Needs the
services the service tests need (Postgres on 127.0.0.1:5432, Redis on 6379). Prints the
case count and statuses per app; exit status 0 when no 5xx was seen.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100, help="per operation and mode")
    parser.add_argument("--app", choices=("both", "postgres", "sqlite"), default="both")
    parser.add_argument("--seed", type=int, default=0, help="0: derandomized")
    args = parser.parse_args(argv)
    selection = {"both": "fuzz", "postgres": "postgres", "sqlite": "sqlite"}[args.app]
    env = dict(os.environ, MDVAL_FUZZ_CASES=str(args.cases), MDVAL_FUZZ_SEED=str(args.seed))
    command = [
        sys.executable, "-m", "pytest", "tests/app/test_fuzz.py", "-k", selection,
        "-s", "-q", "-p", "no:cacheprovider", "-o", "timeout=7200",
    ]  # fmt: skip
    return subprocess.call(command, cwd=REPO, env=env)


if __name__ == "__main__":
    sys.exit(main())
