"""The core never imports the web, database or queue layers (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "celery",
    "kombu",
    "redis",
    "psycopg",
    "dash",
    "uvicorn",
    "app",
    "workers",
    "dashboard",
)

PROBE = """
import sys
import mdval, mdval.md.protocol, mdval.compare, mdval.suites, mdval.criteria
import mdval.cli.main
bad = sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))
print(','.join(bad))
"""


def test_core_and_its_cli_import_no_service_package() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *FORBIDDEN], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"mdval imported: {out.stdout.strip()}"


def test_import_mdval_is_cheap() -> None:
    """`import mdval` alone does not pull torch or ase (lazy public API)."""
    probe = "import sys, mdval; print(','.join(m for m in ('torch','ase') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
