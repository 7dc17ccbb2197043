"""The pages, one module each. They register themselves with ``dash.register_page`` when
imported, which must happen after the Dash app exists: :func:`register_all`.

Dash moves the global ``@callback`` registrations into the first app that starts; a later
app in the same process (tests build several) gets a copy of the ones taken at import.
"""

from __future__ import annotations

import importlib
from typing import Any

import dash
from dash import _callback

MODULES = (
    "leaderboard",
    "submit",
    "models",
    "runs",
    "run",
    "compare",
    "standup",
    "report",
    "bench",
)
_snapshot: dict[str, Any] = {}


def register_all() -> None:
    first = not _snapshot
    for name in MODULES:
        module = importlib.import_module(f"dashboard.pages.{name}")
        # registered at the top of the module, before its layout function exists
        dash.page_registry[module.__name__].setdefault("layout", module.layout)
    import dashboard.auth
    import dashboard.shell  # noqa: F401

    if first:
        _snapshot["map"] = dict(_callback.GLOBAL_CALLBACK_MAP)
        _snapshot["list"] = list(_callback.GLOBAL_CALLBACK_LIST)
        _snapshot["scripts"] = list(_callback.GLOBAL_INLINE_SCRIPTS)
    else:
        _callback.GLOBAL_CALLBACK_MAP.update(_snapshot["map"])
        _callback.GLOBAL_CALLBACK_LIST.extend(_snapshot["list"])
        _callback.GLOBAL_INLINE_SCRIPTS.extend(_snapshot["scripts"])
