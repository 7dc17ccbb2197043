"""``GET /download/runs/<id>/<file>``: a run's file as the API serves it, for the browser.

A plain link to the API would reach it without a token (the session token is in the
HttpOnly ``mdval_session`` cookie, which only the dashboard can read), so with
``MDVAL_READ_REQUIRES_TOKEN`` the browser would get 401. This route reads the signed
cookie, asks the API for the file with ``Authorization: Bearer <token>`` (in-process or
remote, as every other call of the dashboard) and passes the API's answer on: status, body,
type and file name. Signed out, the API is asked without a token and decides.
"""

from __future__ import annotations

from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from dashboard import api
from dashboard.auth import SESSION_COOKIE, token_of_cookie

#: The API's headers passed on to the browser.
FORWARDED_HEADERS = (
    "content-type",
    "content-disposition",
    "content-length",
    "content-encoding",
    "last-modified",
)


def register(fastapi_app: Any) -> None:
    """Add the download route to the service's app (before Dash's catch-all)."""

    async def download(run_id: int, name: str, request: Request) -> Response:
        path = api.api_file_path(run_id, name)
        if path is None:
            return JSONResponse(
                status_code=404,
                content={"detail": f"no file '{name}' of a run to download", "field": "name"},
            )
        token = token_of_cookie(request.cookies.get(SESSION_COOKIE))
        client = api.client(token)
        try:
            upstream = await client.send(client.build_request("GET", path), stream=True)
        except Exception as exc:
            await client.aclose()
            return JSONResponse(
                status_code=503, content={"detail": f"the API did not answer: {exc}"}
            )

        async def close() -> None:
            await upstream.aclose()
            await client.aclose()

        headers = {k: v for k, v in upstream.headers.items() if k.lower() in FORWARDED_HEADERS}
        headers["cache-control"] = "private, no-store"
        return StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=headers,
            background=BackgroundTask(close),
        )

    fastapi_app.add_api_route(
        api.DOWNLOAD_PREFIX + "/{run_id}/{name}",
        download,
        methods=["GET"],
        include_in_schema=False,
    )
