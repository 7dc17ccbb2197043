"""Models: the catalogue. The published model families (``GET /families``: elements,
options, shipped checkpoints, the extra that installs each and whether the server has it)
and the registered models (``GET /models``: zoo, families used so far, uploads)."""

from __future__ import annotations

import asyncio
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.dash_table.Format import Format

from dashboard import api, families
from dashboard.components import alert, card, page_header, table

dash.register_page(__name__, path="/models", name="Models", title="Models · mdval", order=2)

FAMILY_COLUMNS: list[dict[str, Any]] = [
    {"name": "family", "id": "family"},
    {"name": "what", "id": "summary"},
    {"name": "elements", "id": "elements"},
    {"name": "options", "id": "options"},
    {"name": "shipped checkpoints", "id": "shipped"},
    {"name": "example spec", "id": "example"},
    {"name": "install", "id": "install"},
    {"name": "on this server", "id": "installed"},
]
MODEL_COLUMNS: list[dict[str, Any]] = [
    {"name": "model", "id": "name"},
    {"name": "spec", "id": "spec"},
    {"name": "kind", "id": "kind"},
    {"name": "parameters", "id": "n_params", "type": "numeric", "format": Format(group=",")},
    {"name": "elements", "id": "elements"},
    {"name": "periodic", "id": "periodic"},
    {"name": "status", "id": "status"},
]
_WRAP = {"whiteSpace": "normal", "height": "auto", "maxWidth": "320px"}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="models-load"),
            page_header(
                "Models",
                "Published model families a run may name as family:checkpoint?option=value, "
                "and the models registered so far.",
            ),
            html.Div(id="models-error"),
            card(
                "Model families",
                html.P(
                    "A family whose package is not installed on the server is refused with the "
                    "extra to install; the Submit page offers the shipped checkpoints.",
                    className="muted",
                ),
                table("models-families", FAMILY_COLUMNS, style_cell=_WRAP),
            ),
            card(
                "Registered models",
                table("models-registered", MODEL_COLUMNS, sort_action="native", page_size=50),
            ),
        ]
    )


def model_rows(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": m["name"],
            "spec": m["spec"],
            "kind": m["kind"],
            "n_params": m.get("n_params"),
            "elements": (
                " ".join(m["supported_elements"])
                if m.get("supported_elements") is not None
                else "any"
            ),
            "periodic": "yes" if m.get("periodic_ok", True) else "no",
            "status": m["status"],
        }
        for m in models
    ]


@callback(
    Output("models-families", "data"),
    Output("models-registered", "data"),
    Output("models-error", "children"),
    Input("models-load", "id"),
    State("shell-auth", "data"),
)
async def load(_id: Any, auth_data: Any) -> tuple:
    token = api.token_of(auth_data)
    try:
        published, models = await asyncio.gather(
            api.get("/families", token=token), api.get("/models", token=token)
        )
    except api.ApiError as exc:
        return [], [], alert(exc.detail)
    return families.catalogue_rows(published["items"]), model_rows(models["items"]), None
