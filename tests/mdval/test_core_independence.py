"""The core never imports the web, database or queue layers (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
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
)
LAYERS = ("app", "workers", "dashboard")

PROBE = """
import sys
{imports}
bad = sorted({{m.split('.')[0] for m in sys.modules}} & set(sys.argv[1:]))
print(','.join(bad))
"""


def imported(imports: str, names: tuple[str, ...]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports), *names],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_core_imports_no_service_layer_or_package() -> None:
    core = "import mdval, mdval.md.protocol, mdval.compare, mdval.suites, mdval.criteria, mdval.zoo"
    assert imported(core, HEAVY + LAYERS) == ""


def test_cli_loads_service_commands_without_the_service_stack() -> None:
    """The `mdval` command plugs in app.cli by entry point; that must stay light."""
    assert imported("import mdval.cli.main", HEAVY) == ""


def test_import_mdval_is_cheap() -> None:
    """`import mdval` alone does not pull torch or ase (lazy public API)."""
    assert imported("import mdval", ("torch", "ase")) == ""


def test_statistics_module_is_light() -> None:
    """The API imports `mdval.metrics.statistics` (survival, time to failure): no ase, no
    torch, no scipy at import (the metrics package loads its names lazily)."""
    assert imported("import mdval.metrics.statistics", ("torch", "ase", "scipy")) == ""
    assert imported("import mdval.metrics", ("torch", "ase", "scipy")) == ""
