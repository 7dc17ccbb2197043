"""Small layout pieces shared by the pages: cards, badges, tiles, alerts, tables."""

from __future__ import annotations

from typing import Any

from dash import dash_table, dcc, html

from dashboard.format import (
    LEVEL_BACKGROUNDS,
    LEVEL_COLOURS,
    LEVEL_LABELS,
    RECOMMENDATION_LEVELS,
    STATUS_COLOURS,
    num,
)

COMPARISONS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "="}
GRAPH_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d"],
}


def page_header(title: str, subtitle: str | None = None, *actions: Any) -> html.Div:
    return html.Div(
        [
            html.Div(
                [html.H1(title), html.P(subtitle, className="subtitle") if subtitle else None]
            ),
            html.Div(list(actions), className="header-actions"),
        ],
        className="page-header",
    )


def card(title: str | None, *children: Any, class_name: str = "", **kwargs: Any) -> html.Section:
    head = html.H2(title, className="card-title") if title else None
    return html.Section([head, *children], className=f"card {class_name}".strip(), **kwargs)


def graph(graph_id: str, figure: Any = None, *, height: int | None = None) -> dcc.Graph:
    extra: dict[str, Any] = {"style": {"height": f"{height}px"}} if height else {}
    config: Any = GRAPH_CONFIG
    return dcc.Graph(id=graph_id, figure=figure or {}, config=config, **extra)


def status_badge(status: str | None) -> html.Span:
    colour = STATUS_COLOURS.get(status or "", "#6b7280")
    return html.Span(
        status or "—", className="badge", style={"color": colour, "borderColor": colour}
    )


def level_badge(level: str | None, text: str | None = None) -> html.Span:
    lv = level or "pending"
    return html.Span(
        text or LEVEL_LABELS.get(lv, lv),
        className="badge level",
        style={"color": LEVEL_COLOURS.get(lv), "background": LEVEL_BACKGROUNDS.get(lv)},
    )


def recommendation_badge(recommendation: str | None) -> html.Span:
    if not recommendation:
        return html.Span("—", className="muted")
    return level_badge(RECOMMENDATION_LEVELS.get(recommendation, "pending"), recommendation)


def tile(
    label: str, value: Any, *, tile_id: str | None = None, hint: str | None = None
) -> html.Div:
    kwargs: dict[str, Any] = {"id": tile_id} if tile_id else {}
    return html.Div(
        [
            html.Div(label, className="tile-label"),
            html.Div(value, className="tile-value", **kwargs),
            html.Div(hint, className="tile-hint") if hint else None,
        ],
        className="tile",
    )


def labelled(label: str, control: Any) -> html.Label:
    """A filter control with its name above it."""
    return html.Label([html.Span(label, className="filter-label"), control], className="filter-box")


def alert(message: Any, kind: str = "error") -> html.Div:
    return html.Div(message, className=f"alert alert-{kind}", role="alert")


def empty(message: str) -> html.Div:
    return html.Div(message, className="empty")


def criteria_table(rows: list[dict[str, Any]], *, provisional: bool) -> html.Table:
    """Criterion, value, target, acceptable, level — each row coloured by its level."""
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("criterion", "value", "target", "acceptable", "level")])
    )
    body = []
    for r in rows:
        unit = r.get("unit") or ""
        cmp = COMPARISONS.get(str(r.get("comparison")), "")
        level = r.get("level") or "pending"
        # a true/false criterion names what it asks about in every cell ("crashed: yes",
        # "crashed = no"), so that "no crash | yes | fail" never reads as a double negative
        said = f"{r['metric']} " if isinstance(r.get("target"), bool) else ""
        value = num(r.get("value"), 3, unit)
        body.append(
            html.Tr(
                [
                    html.Td(r["name"].replace("_", " "), title=r.get("description") or r["metric"]),
                    html.Td(f"{said.rstrip()}: {value}" if said else value),
                    html.Td(f"{said}{cmp} {num(r.get('target'), 3, unit)}"),
                    html.Td(f"{said}{cmp} {num(r.get('acceptable'), 3, unit)}"),
                    html.Td(level_badge(level)),
                ],
                style={"borderLeft": f"4px solid {LEVEL_COLOURS.get(level)}"},
            )
        )
    caption = html.Caption(
        "provisional: on the records so far" if provisional else "final: from the run summary"
    )
    return html.Table([caption, head, html.Tbody(body)], className="criteria")


TABLE_FONT = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
TABLE_CELL = {
    "fontFamily": TABLE_FONT,
    "fontSize": "13px",
    "padding": "6px 10px",
    "textAlign": "left",
    "border": "none",
    "borderBottom": "1px solid #eaeef2",
    "maxWidth": "320px",
    "overflow": "hidden",
    "textOverflow": "ellipsis",
}


def table(table_id: str, columns: list[dict[str, Any]], **kwargs: Any) -> Any:
    """A DataTable in the house style (markdown cells allowed for links)."""
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=table_id,
        columns=columns,
        data=kwargs.pop("data", []),
        style_as_list_view=True,
        style_table={"overflowX": "auto", **kwargs.pop("style_table", {})},
        style_header={
            "fontFamily": TABLE_FONT,
            "fontWeight": "600",
            "backgroundColor": "#f6f8fa",
            "color": "#1f2328",
            "borderBottom": "1px solid #d0d7de",
            "whiteSpace": "normal",
            "height": "auto",
        },
        style_cell={**TABLE_CELL, **kwargs.pop("style_cell", {})},
        markdown_options={"link_target": "_self"},
        **kwargs,
    )
