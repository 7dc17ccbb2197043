"""The dashboard renders what the API returns: it imports no core (``mdval``), no database
layer (``app.db``, ``app.crud``, ``app.models``), and holds no analysis code of its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
FORBIDDEN = ("mdval", "app.db", "app.crud", "app.models")
#: What the core computes and the dashboard must not: Kabsch/RMSD, h(r), dihedrals and
#: φ/ψ, bonds from radii, extxyz parsing, criteria levels.
ANALYSIS_CODE = re.compile(
    r"np\.linalg\.svd|kabsch|def distance_histogram|np\.triu_indices|def dihedral|"
    r"np\.arctan2|np\.cross|def bonds\b|COVALENT_RADII|def parse_extxyz|Lattice=|"
    r"def level_of|def evaluate\b|def metric_level|attempt-",
    re.IGNORECASE,
)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_dashboard_module_imports_the_core_or_the_database_layer() -> None:
    files = sorted(DASHBOARD.rglob("*.py"))
    assert len(files) > 15
    bad = [
        f"{path.relative_to(DASHBOARD.parent)}: {name}"
        for path in files
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert bad == []


def test_the_dashboard_holds_no_analysis_code() -> None:
    hits = [
        f"{path.relative_to(DASHBOARD.parent)}:{n}: {line.strip()}"
        for path in sorted(DASHBOARD.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if ANALYSIS_CODE.search(line)
    ]
    assert hits == []
