"""The API process never imports torch or ase (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from app.core.config import Settings
from app.main import create_app
import app.api.routes.runs, app.cli, app.standalone, app.client, workers.celery_app
app = create_app(Settings(database_url="sqlite:///:memory:", dashboard_factory=""))
app.openapi()
heavy = {"torch", "ase", "rdkit", "tblite"}
print(",".join(sorted({m.split(".")[0] for m in sys.modules} & heavy)))
"""


def test_api_imports_neither_torch_nor_ase() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the API process imported: {out.stdout.strip()}"
