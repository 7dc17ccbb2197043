"""``mdval standalone`` as a child process group of a benchmark script: started on a fresh
data directory with only the admin token set, and stopped (TERM, then KILL) with every
worker it started. Used by ``demo_timing.py`` and ``time_to_verdict.py``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


@contextlib.contextmanager
def standalone(
    repo: Path, data_dir: Path, port: int, token: str, *, demo: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m app.cli standalone`` in ``repo`` on an emptied ``data_dir``; its log
    is ``data_dir/standalone.log``."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDVAL_")}
    env["MDVAL_ADMIN_TOKEN"] = token
    command = [sys.executable, "-m", "app.cli", "standalone", "--data-dir", str(data_dir),
               "--port", str(port), *(["--demo"] if demo else [])]  # fmt: skip
    with (data_dir / "standalone.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=repo, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            yield proc
        finally:  # the server and the workers it started: warm, then forced
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(30)
                    break


def wait_until_up(api: httpx.Client, proc: subprocess.Popen[bytes], limit_s: float = 180) -> None:
    """Return once ``GET /health`` answers 200; RuntimeError if the server exits or is not
    up within ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mdval standalone exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if api.get("/health").status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"mdval standalone was not up within {limit_s:.0f} s")
