"""Sign-in with an API token: checked against ``/api/v1/auth/me`` and kept in the
browser's session storage (``shell-auth``: token, name, role). Every write a page makes
sends it as ``Authorization: Bearer``. The token is never written into the page itself."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import api


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
    return {"token": token, "name": me["name"], "role": me["role"]}, "", ""


@callback(
    Output("shell-auth", "data", allow_duplicate=True),
    Input("shell-signout", "n_clicks"),
    prevent_initial_call=True,
)
def sign_out(_clicks: Any) -> None:
    return None


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
