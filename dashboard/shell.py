"""The dashboard's shell: the top bar (navigation, sign-in), the shared stores, the page
container, and the callback that marks the current page's link."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

#: Navigation: (page module, label), in this order.
NAV = (
    ("dashboard.pages.leaderboard", "Leaderboard"),
    ("dashboard.pages.submit", "Submit"),
    ("dashboard.pages.models", "Models"),
    ("dashboard.pages.runs", "Runs"),
    ("dashboard.pages.compare", "Compare"),
    ("dashboard.pages.standup", "Stand-up"),
    ("dashboard.pages.report", "Report"),
    ("dashboard.pages.bench", "Benchmarks"),
)


def layout() -> html.Div:
    from dashboard import auth, demo_notice

    links = [
        dcc.Link(
            label,
            href=dash.page_registry[module]["path"],
            id=f"shell-nav-{i}",
            className="nav-link",
        )
        for i, (module, label) in enumerate(NAV)
    ]
    return html.Div(
        [
            dcc.Store(id="shell-auth", storage_type="session"),
            html.Header(
                [
                    dcc.Link(
                        [html.Span("md", className="brand-md"), "val"], href="/", className="brand"
                    ),
                    html.Nav(links, className="nav"),
                    auth.signin_area(),
                ],
                className="topbar",
            ),
            html.Main([demo_notice.area(), dash.page_container], className="content"),
        ],
        className="shell",
    )


@callback(
    [Output(f"shell-nav-{i}", "className") for i in range(len(NAV))],
    Input("_pages_location", "pathname"),
)
def _active_link(pathname: str | None) -> list[str]:
    path = pathname or "/"
    out = []
    for module, _label in NAV:
        href = dash.page_registry[module]["path"]
        active = path == href if href == "/" else path.startswith(href)
        out.append("nav-link active" if active else "nav-link")
    return out
