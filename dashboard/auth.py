"""Sign-in with an API token, kept in a signed session cookie.

The token is checked against ``/api/v1/auth/me`` and then lives only in the
``mdval_session`` cookie: signed with ``MDVAL_SECRET_KEY`` (itsdangerous, with a maximum
age), ``HttpOnly`` (no script of the page can read it) and ``SameSite=Lax``. The browser's
session storage (``shell-auth``) holds the name and role to show, never the token.
Callbacks take the token from the cookie of their own request (:func:`session_token`, which
:func:`dashboard.api.token_of` calls) and send it to the API as ``Authorization: Bearer``."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update
from itsdangerous import BadSignature, URLSafeTimedSerializer

from dashboard import api

SESSION_COOKIE = "mdval_session"
_SALT = "mdval.dashboard.session"


def _settings() -> Any:
    state = api.app_state()
    if state is not None:
        return state.settings
    from app.core.config import get_settings

    return get_settings()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_settings().secret_key, salt=_SALT)


def session_token() -> str | None:
    """The token of the signed session cookie of the current callback's request (None when
    signed out, outside a callback, or when the cookie is forged, expired or signed with
    another secret key)."""
    try:
        cookie = dash.callback_context.cookies.get(SESSION_COOKIE)
    except Exception:  # no callback context
        return None
    return token_of_cookie(cookie)


def token_of_cookie(cookie: str | None) -> str | None:
    """The token a ``mdval_session`` cookie value signs (None when absent, forged, expired
    or signed with another secret key); also for the dashboard's download route."""
    if not cookie:
        return None
    try:
        data = _serializer().loads(cookie, max_age=_settings().dashboard_session_max_age_s)
    except BadSignature:
        return None
    token = data.get("t") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


def _is_https() -> bool:
    headers = dash.callback_context.headers or {}
    origin = headers.get("origin") or headers.get("referer") or ""
    return str(origin).startswith("https://") or headers.get("x-forwarded-proto") == "https"


def _set_session(token: str) -> None:
    dash.callback_context.response.set_cookie(
        SESSION_COOKIE,
        _serializer().dumps({"t": token}),
        max_age=_settings().dashboard_session_max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(),
    )


def _clear_session() -> None:
    dash.callback_context.response.set_cookie(
        SESSION_COOKIE, "", max_age=0, expires=0, path="/", httponly=True, samesite="lax"
    )


def signin_area() -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    dcc.Input(
                        id="shell-token",
                        type="password",
                        placeholder="API token",
                        debounce=False,
                        className="token-input",
                        autoComplete="off",
                        n_submit=0,
                    ),
                    html.Button("Sign in", id="shell-signin", className="btn btn-primary btn-sm"),
                    html.Span(id="shell-signin-error", className="signin-error"),
                ],
                id="shell-signed-out",
                className="signin",
            ),
            html.Div(
                [
                    html.Span(id="shell-user", className="user"),
                    html.Button("Sign out", id="shell-signout", className="btn btn-ghost btn-sm"),
                ],
                id="shell-signed-in",
                className="signin",
                style={"display": "none"},
            ),
        ],
        className="auth",
    )


@callback(
    Output("shell-auth", "data"),
    Output("shell-signin-error", "children"),
    Output("shell-token", "value"),
    Input("shell-signin", "n_clicks"),
    Input("shell-token", "n_submit"),
    State("shell-token", "value"),
    prevent_initial_call=True,
)
async def sign_in(_clicks: Any, _submit: Any, token: str | None) -> tuple[Any, str, Any]:
    token = (token or "").strip()
    if not token:
        return no_update, "paste a token first", no_update
    try:
        me = await api.get("/auth/me", token=token)
    except api.ApiError as exc:
        return no_update, exc.detail.split(":")[0], ""
    if not me.get("authenticated"):
        return no_update, "unknown token", ""
    _set_session(token)
    return {"name": me["name"], "role": me["role"]}, "", ""


@callback(
    Output("shell-auth", "data", allow_duplicate=True),
    Input("shell-signout", "n_clicks"),
    prevent_initial_call=True,
)
def sign_out(_clicks: Any) -> None:
    _clear_session()
    return None


@callback(
    Output("shell-auth", "data", allow_duplicate=True),
    Input("_pages_location", "pathname"),
    State("shell-auth", "data"),
    prevent_initial_call="initial_duplicate",
)
async def restore_session(_path: Any, auth: dict[str, Any] | None) -> Any:
    """On each page load: show who the session cookie signs in (a new tab, a reload), and
    sign out a tab whose cookie has expired or whose token was revoked."""
    token = session_token()
    if token is None:
        return None if auth else no_update
    try:
        me = await api.get("/auth/me", token=token)
    except api.ApiError:
        _clear_session()
        return None
    shown = {"name": me.get("name"), "role": me.get("role")}
    return no_update if auth == shown else shown


@callback(
    Output("shell-signed-out", "style"),
    Output("shell-signed-in", "style"),
    Output("shell-user", "children"),
    Input("shell-auth", "data"),
)
def show_user(auth: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, str], Any]:
    if not auth:
        return {}, {"display": "none"}, ""
    return (
        {"display": "none"},
        {},
        [html.Span("●", className="dot"), f" {auth.get('name')} · {auth.get('role')}"],
    )


def can_write(auth: dict[str, Any] | None) -> bool:
    """Whether the signed-in token may submit and cancel (submitter or admin)."""
    return bool(auth) and (auth or {}).get("role") in ("submitter", "admin")
