"""The shell's demo notice: on every page, while the server holds runs of a demo-sized
suite (a suite whose definition says ``demo: true``, e.g. the ``demo`` suite of
``mdval standalone --demo``), a banner says that their verdicts and leaderboard rows come
from a demo-sized protocol, not a validation. Everything comes from the API."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, html

from dashboard import api


def area() -> html.Div:
    """The banner's place in the shell (empty until the callback fills it)."""
    return html.Div(id="shell-demo-notice")


def demo_suites(suites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The suites of ``GET /suites`` that are demo-sized."""
    return [s for s in suites if (s.get("definition") or {}).get("demo") is True]


def notice(suite: dict[str, Any], n_runs: int) -> html.Div:
    """The banner for ``n_runs`` runs of the demo-sized ``suite``."""
    name = suite["name"]
    runs = "1 run on this server comes" if n_runs == 1 else f"{n_runs} runs on this server come"
    return html.Div(
        [
            html.Strong(f"Demo-sized protocol (suite '{name}'). "),
            f"{runs} from a demo: short runs judged by a "
            "profile scaled to them, to show how mdval judges — not a validation. "
            f"Their verdicts and the leaderboard rows of suite '{name}' say nothing about "
            "production use; validate a model with m6-quick or m6-full. The overall "
            f"leaderboard and recommendations leave them out: pick suite '{name}' in the "
            "leaderboard's suite filter to see them. ",
            html.Div(suite.get("description") or "", className="demo-notice-suite"),
        ],
        className="alert alert-warning demo-notice",
        role="note",
        id=f"demo-notice-{name}",
    )


@callback(
    Output("shell-demo-notice", "children"),
    Input("_pages_location", "pathname"),
    State("shell-auth", "data"),
)
async def _show(_pathname: str | None, auth: dict[str, Any] | None) -> list[html.Div]:
    token = api.token_of(auth)
    try:
        suites = demo_suites((await api.get("/suites", token=token)).get("items") or [])
        banners = []
        for suite in suites:
            page = await api.get("/runs", token=token, params={"suite": suite["name"], "limit": 1})
            if page.get("total"):
                banners.append(notice(suite, int(page["total"])))
        return banners
    except api.ApiError:  # signed out on a server that requires a token: nothing to say
        return []
