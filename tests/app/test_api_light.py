"""The API process never imports torch or ase (DESIGN.md), with or without the dashboard."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

PROBE = """
import sys
from app.core.config import Settings
from app.main import create_app
import app.api.routes.runs, app.cli, app.standalone, app.client, workers.celery_app
app = create_app(Settings(database_url="sqlite:///:memory:", dashboard_factory=FACTORY))
app.openapi()
heavy = {"torch", "ase", "rdkit", "tblite"}
print(",".join(sorted({m.split(".")[0] for m in sys.modules} & heavy)))
"""


def heavy_imports(factory: str) -> str:
    code = PROBE.replace("FACTORY", repr(factory))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_api_imports_neither_torch_nor_ase() -> None:
    assert heavy_imports("") == "", "the API process imported a heavy package"


@pytest.mark.skipif(
    importlib.util.find_spec("dashboard.app") is None, reason="no dashboard package yet"
)
def test_api_with_the_dashboard_mounted_stays_light() -> None:
    assert heavy_imports("dashboard.app:attach") == ""
