"""The Dash front end, mounted on the service's FastAPI app at ``/``.

``create_dash(fastapi_app)`` mounts the app with the shell of :mod:`dashboard.shell` (top
bar with the navigation and the sign-in, the shared stores, the page container); every page
is its own module under :mod:`dashboard.pages` with its layout and callbacks. The service
calls :func:`attach` through ``MDVAL_DASHBOARD_FACTORY=dashboard.app:attach`` (its default).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash

from dashboard import api

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"


def _json_404_for_unknown_api_paths(fastapi_app: Any) -> None:
    """Dash answers every unknown GET with its index page; an unknown ``/api/...`` URL
    must stay a JSON 404 (registered before Dash's catch-all, so it wins)."""
    from fastapi.responses import JSONResponse

    async def not_found(path: str) -> JSONResponse:
        return JSONResponse(
            status_code=404,
            content={"detail": f"no API endpoint /api/{path}; see /docs", "field": None},
        )

    fastapi_app.add_api_route(
        "/api/{path:path}", not_found, methods=["GET"], include_in_schema=False
    )


def _log_callback_error(error: Exception) -> None:
    """Dash answers a failed callback with a bare 500: keep the traceback in the log."""
    log.error("dashboard callback %s failed", dash.ctx.outputs_list, exc_info=error)
    raise error


def create_dash(fastapi_app: Any) -> dash.Dash:
    """Mount the dashboard on ``fastapi_app`` (API at ``/api/v1``, dashboard at ``/``)."""
    from dashboard import downloads, pages, shell

    api.bind(fastapi_app)
    _json_404_for_unknown_api_paths(fastapi_app)
    downloads.register(fastapi_app)
    app = dash.Dash(
        __name__,
        server=fastapi_app,
        backend="fastapi",
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="mdval",
        update_title=None,  # type: ignore[arg-type]  # None: keep the title while updating
        suppress_callback_exceptions=True,
        on_error=_log_callback_error,
    )
    pages.register_all()
    app.layout = shell.layout()
    _run_first_request_hooks(app)
    _component_suites_404(app)
    return app


def _component_suites_404(app: dash.Dash) -> None:
    """``/_dash-component-suites/<package>/<path>`` serves only the files Dash registered;
    anything else (an unknown package, ``..%2F`` traversal, a NUL) raises inside Dash,
    which answers a bare 500. Answer those with a JSON 404 instead."""
    from starlette.responses import JSONResponse

    backend: Any = app.backend
    serve = backend.serve_component_suites

    def serve_registered_only(
        dash_app: Any, package_name: str, fingerprinted_path: str, request: Any
    ) -> Any:
        try:
            return serve(dash_app, package_name, fingerprinted_path, request)
        except (dash.exceptions.DependencyException, OSError, ValueError, KeyError):
            return JSONResponse(
                status_code=404,
                content={"detail": f"no dashboard file {package_name}/{fingerprinted_path}",
                         "field": None},
            )  # fmt: skip

    backend.serve_component_suites = serve_registered_only


def _run_first_request_hooks(app: dash.Dash) -> None:
    """Dash sets up its routes and the pages router on the first request to a Dash URL;
    a deep link (``/runs/7``) as the very first request is served by the catch-all before
    that, without the router's scripts. Run those first-request hooks now."""
    for hook in list(getattr(app.backend, "_before_request_funcs", [])):
        hook()


def attach(fastapi_app: Any) -> None:
    """The service's mounting hook (``MDVAL_DASHBOARD_FACTORY=dashboard.app:attach``)."""
    create_dash(fastapi_app)
