"""The package's extras: ``pip install mdval`` (base) is the CI client, enough for
``mdval submit``; ``'.[all]'`` (the README's commands, .ci/run) is the core and the service.

``mdval submit --help`` is run in a subprocess of this environment (where everything is
installed) and every module it imported is traced to its distribution: each must be the
base dependencies or what they require, so the same command works in a fresh venv that has
only the client installed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
#: What the CI client must never pull in (the issue's list, and the core's numerics).
HEAVY = ("torch", "tblite", "rdkit", "dash", "celery", "ase", "numpy", "scipy", "sqlalchemy")

PROBE = """
import json, sys
before = set(sys.modules)  # the interpreter's own start (site, .pth hooks)
sys.argv = ["mdval", "submit", "--help"]
from mdval.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print("\\n@@" + json.dumps({"code": code, "modules": new}))
"""


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: list[str]) -> set[str]:
    """The distributions ``names`` need when installed without extras (markers of extras
    skipped), recursively."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r and "extra==" not in r]
    return seen


def test_submit_help_imports_only_the_client_dependencies() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    head, _, tail = out.rpartition("\n@@")
    probe = json.loads(tail)
    assert probe["code"] == 0 and "--server" in head and "--token" in head
    modules = set(probe["modules"])
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))

    base = [_name(r) for r in PYPROJECT["project"]["dependencies"]]
    allowed = _closure(base) | {"mdval"}
    owners = metadata.packages_distributions()
    outside = {
        m: owners[m]
        for m in modules
        if m in owners
        and not {_name(d) for d in owners[m]} & allowed
        and m not in sys.stdlib_module_names
    }
    assert outside == {}, f"imported from distributions outside the base dependencies: {outside}"


def test_base_is_the_client_and_all_is_everything() -> None:
    project = PYPROJECT["project"]
    base = {_name(r) for r in project["dependencies"]}
    assert base == {"httpx", "pydantic", "typer", "rich"}
    extras = project["optional-dependencies"]
    core = {_name(r) for r in extras["core"]}
    service = {_name(r) for r in extras["service"]}
    assert {"numpy", "ase", "torch", "tblite", "rdkit"} <= core
    assert {"fastapi", "celery", "sqlalchemy", "dash", "mdval"} <= service
    assert extras["all"] == ["mdval[core,service]"]
    # the README's commands and CI install everything
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    for text in (readme, ci):
        installs = re.findall(
            r"\.venv && \.venv/bin/pip install (?:-q )?-e '?\.(\[[^\]]*\])?", text
        )
        assert installs and all("all" in extra for extra in installs), installs
