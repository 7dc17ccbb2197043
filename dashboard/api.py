"""The dashboard's way to the service: the HTTP API under ``/api/v1``.

When the dashboard is mounted on the service's FastAPI app (the normal case) requests go
in-process through :class:`httpx.ASGITransport` — no socket, no second server — and still
pass through the API's authentication and validation. Callbacks are ``async`` so that such
a request never blocks the event loop the API itself runs on.

Every number shown comes from the API (trajectory frames, h(r), φ/ψ, RMSD and criteria
levels are computed there by the core); the dashboard reads no file and no database.
Files (trajectory, thermo CSV, summary JSON) are downloaded through the dashboard's own
``/download/runs/<id>/<file>`` route (:mod:`dashboard.downloads`), which sends the API the
session's token, so that a signed-in browser can download where reads need a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

API_PREFIX = "/api/v1"
#: How long one API call may take before the dashboard shows an error instead.
REQUEST_TIMEOUT_S = 120.0
_INTERNAL_BASE = "http://mdval.internal"


@dataclass
class _Binding:
    asgi_app: Any = None
    base_url: str | None = None


_binding = _Binding()


def bind(asgi_app: Any = None, *, base_url: str | None = None) -> None:
    """Point the dashboard at the service: the FastAPI app itself, or a remote base URL."""
    _binding.asgi_app = asgi_app
    _binding.base_url = base_url.rstrip("/") if base_url else None


def app_state() -> Any | None:
    """``app.state`` of the bound FastAPI app (its settings: the session cookie's secret key);
    None when remote."""
    app = _binding.asgi_app
    return getattr(app, "state", None) if app is not None else None


class ApiError(Exception):
    """An error answer of the API: status, its sentence for a person, the field at fault."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
        detail = str(body.get("detail") or response.reason_phrase)
        field = body.get("field")
    except (ValueError, AttributeError):
        detail, field = f"{response.status_code} {response.reason_phrase}", None
    return ApiError(response.status_code, detail, field)


def client(token: str | None) -> httpx.AsyncClient:
    """An HTTP client of the API (base URL ``/api/v1``) sending ``token`` as Bearer."""
    return _client(token)


def _client(token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if _binding.asgi_app is not None:
        transport = httpx.ASGITransport(app=_binding.asgi_app)
        return httpx.AsyncClient(
            transport=transport,
            base_url=_INTERNAL_BASE + API_PREFIX,
            headers=headers,
            timeout=REQUEST_TIMEOUT_S,
        )
    if _binding.base_url is None:
        raise RuntimeError("dashboard.api is not bound: call dashboard.create_dash(app) first")
    return httpx.AsyncClient(
        base_url=_binding.base_url + API_PREFIX, headers=headers, timeout=REQUEST_TIMEOUT_S
    )


async def request(
    method: str,
    path: str,
    *,
    token: str | None = None,
    params: Any = None,
    json: Any = None,
    data: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """One API call; returns the decoded JSON body or raises :class:`ApiError`."""
    async with _client(token) as client:
        try:
            response = await client.request(
                method, path, params=params, json=json, data=data, files=files, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"the API did not answer: {exc}") from exc
    if response.status_code >= 400:
        raise _error(response)
    return response.json() if response.content else None


async def get(path: str, *, token: str | None = None, params: Any = None) -> Any:
    return await request("GET", path, token=token, params=params)


async def post(path: str, *, token: str | None = None, **kwargs: Any) -> Any:
    return await request("POST", path, token=token, **kwargs)


def token_of(auth: dict[str, Any] | None) -> str | None:
    """The signed-in token of the current callback's request: from the signed, HttpOnly
    session cookie (:mod:`dashboard.auth`), never from the browser's storage; None when
    signed out. ``auth`` (the shell's store: name and role) is kept for the callers."""
    from dashboard.auth import session_token

    del auth
    return session_token()


#: The dashboard's download route (:mod:`dashboard.downloads`), below the site root.
DOWNLOAD_PREFIX = "/download/runs"


def download_url(run_id: int, what: str) -> str:
    """Browser URL of a run's file — ``trajectory``, ``thermo.csv`` or ``summary.json`` —
    through the dashboard's download route, which forwards the API's answer (the API's
    ``/runs/{id}/trajectory`` and ``/runs/{id}/files/{name}``) with the session's token."""
    return f"{DOWNLOAD_PREFIX}/{int(run_id)}/{what}"


def api_file_path(run_id: int, what: str) -> str | None:
    """The API path (below ``/api/v1``) of a run's file; None for an unknown file."""
    if what == "trajectory":
        return f"/runs/{int(run_id)}/trajectory"
    if what in ("thermo.csv", "summary.json", "trajectory.extxyz"):
        return f"/runs/{int(run_id)}/files/{what}"
    return None
