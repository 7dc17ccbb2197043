"""Request-body size limits, enforced while the body is read and before any route (so before
authentication) sees it.

A pure ASGI middleware: a declared ``Content-Length`` over the limit is refused before a
byte of the body is read; a body without one (chunked) is counted as its ``http.request``
messages arrive and refused as soon as the count passes the limit. The refusal is a 413 with
the usual JSON error body and ``Connection: close``, so the server stops reading the rest.
The server buffers at most one flow-control window meanwhile, never the body.

Limits: model uploads (``MDVAL_MAX_MODEL_UPLOAD_MB``), structure uploads
(``MDVAL_MAX_STRUCTURE_UPLOAD_KB``), the dashboard's callbacks (which carry a file picked
in the submit form base64-encoded, so the model limit times 4/3), and every other body
(``MDVAL_MAX_REQUEST_BODY_KB``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings

#: Room for the multipart envelope (boundaries, headers, the other form fields).
MULTIPART_SLACK = 64 * 1024
#: The dashboard's callback endpoint (Dash's default routes prefix).
DASH_CALLBACK_PATH = "/_dash-update-component"


@dataclass(frozen=True)
class Limit:
    max_bytes: int
    what: str
    setting: str

    def message(self) -> str:
        return (
            f"the {self.what} is larger than the limit of {_size(self.max_bytes)} "
            f"({self.setting}); send a smaller one, or ask the operator to raise {self.setting}"
        )


def _size(n: int) -> str:
    return f"{n / 1e6:g} MB" if n >= 1_000_000 else f"{n / 1e3:g} kB"


def limits_for(settings: Settings, api_prefix: str) -> dict[tuple[str, str], Limit]:
    """The upload endpoints' own limits; any other request gets :func:`default_limit`."""
    model = int(settings.max_model_upload_mb * 1e6)
    structure = int(settings.max_structure_upload_kb * 1e3)
    return {
        ("POST", f"{api_prefix}/models"): Limit(
            model + MULTIPART_SLACK, "model file", "MDVAL_MAX_MODEL_UPLOAD_MB"
        ),
        ("POST", f"{api_prefix}/structures"): Limit(
            structure + MULTIPART_SLACK, "structure file", "MDVAL_MAX_STRUCTURE_UPLOAD_KB"
        ),
        ("POST", DASH_CALLBACK_PATH): Limit(
            max(model * 4 // 3, structure * 4 // 3) + 2 * MULTIPART_SLACK + default_bytes(settings),
            "dashboard request",
            "MDVAL_MAX_MODEL_UPLOAD_MB",
        ),
    }


def default_bytes(settings: Settings) -> int:
    return int(settings.max_request_body_kb * 1e3)


class BodySizeLimitMiddleware:
    """Refuse (413) a request body over its limit, early and without buffering it."""

    def __init__(self, app: ASGIApp, *, settings: Settings, api_prefix: str) -> None:
        self.app = app
        self.limits = limits_for(settings, api_prefix)
        self.default = Limit(default_bytes(settings), "request body", "MDVAL_MAX_REQUEST_BODY_KB")

    def limit(self, scope: Scope) -> Limit:
        path = str(scope.get("path", "")).rstrip("/") or "/"
        return self.limits.get((str(scope.get("method", "")).upper(), path), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _refuse(send, limit)
            return

        received = 0
        started = False  # the app began its answer
        refused = False  # we answered 413 in its place

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    if not started:
                        await _refuse(send, limit)
                        refused = True
                    # the app sees a client that went away and stops reading
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # whatever the app answers to the disconnect is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # the app failed on the body we cut off; the 413 is already sent


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: Limit) -> None:
    body: dict[str, Any] = {"detail": limit.message(), "field": None}
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
