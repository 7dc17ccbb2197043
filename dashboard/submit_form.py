"""The submit page's form: four cards (potential, structure, protocol, check). Layout only;
the callbacks live in :mod:`dashboard.pages.submit`."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.components import card

HIDDEN = {"display": "none"}


def field(label: str, control: Any, hint: str | None = None) -> html.Label:
    hint_span = html.Span(hint, className="field-hint") if hint else None
    return html.Label(
        [html.Span(label, className="field-label"), control, hint_span], className="field"
    )


def number(name: str, value: float | None, **kw: Any) -> dcc.Input:
    return dcc.Input(id=f"submit-{name}", type="number", value=value, className="input", **kw)


def dropdown(name: str, placeholder: str | None = None, **kw: Any) -> dcc.Dropdown:
    return dcc.Dropdown(id=f"submit-{name}", placeholder=placeholder, **kw)


def radios(name: str, options: dict[str, str], value: str) -> dcc.RadioItems:
    return dcc.RadioItems(
        id=f"submit-{name}",
        options=[{"label": f" {label}", "value": v} for v, label in options.items()],
        value=value,
        inline=True,
        className="radios",
    )


def potential_card() -> html.Section:
    return card(
        "Potential",
        field(
            "Model under test",
            dropdown("model", "choose a registered potential or a published model"),
        ),
        html.Div(
            field(
                "Precision (dtype)",
                dropdown("model-dtype", clearable=False),
                "A family option: the same weights in another dtype are another model.",
            ),
            id="submit-model-options",
            style=HIDDEN,
        ),
        html.P(id="submit-model-info", className="muted"),
        dcc.Upload(
            html.Div("Or drop a TorchScript file (.pt) here"),
            id="submit-model-upload",
            className="upload",
            accept=".pt,.pth",
        ),
        html.Div(id="submit-model-upload-status"),
        field(
            "Reference (teacher)",
            dropdown("reference", "none: skip force errors"),
            "Evaluated on sampled frames of the model's own trajectory.",
        ),
    )


def structure_card() -> html.Section:
    sources = {"builtin": "built-in / registered", "upload": "upload a file", "smiles": "SMILES"}
    smiles = [
        dcc.Input(
            id="submit-smiles",
            placeholder="e.g. CC(=O)NC(C)C(=O)NC",
            className="input",
            debounce=True,
        ),
        html.Button("Preview", id="submit-smiles-preview", className="btn btn-ghost"),
    ]
    upload = dcc.Upload(
        html.Div("Drop an xyz / extxyz / pdb / cif / sdf file here"),
        id="submit-structure-upload",
        className="upload",
    )
    return card(
        "Structure",
        radios("structure-source", sources, "builtin"),
        html.Div(
            field("Structure", dropdown("structure", "choose a structure")),
            id="submit-structure-pick",
        ),
        html.Div(upload, id="submit-structure-file", style=HIDDEN),
        html.Div(smiles, id="submit-structure-smiles", className="inline", style=HIDDEN),
        html.Div(id="submit-structure-status"),
        html.Div(id="submit-structure-info", className="structure-info"),
    )


def protocol_card() -> html.Section:
    custom = [
        html.Div(
            [
                field(
                    "Temperatures (K)",
                    dcc.Input(id="submit-temperatures", value="300", className="input"),
                    "one or more, e.g. 100, 300, 500",
                ),
                field(
                    "Timesteps (fs)",
                    dcc.Input(id="submit-timesteps", value="0.5", className="input"),
                    "e.g. 0.5, 1, 2",
                ),
            ],
            className="row-2",
        ),
        html.Div(
            [
                field("NVE duration (ps)", number("duration-ps", 1.0, step="any")),
                field("NVT equilibration (ps)", number("equilibration-ps", 1.0, step="any")),
            ],
            className="row-2",
        ),
        html.Div(
            [
                field("Seeds", number("seeds", 1, step=1, min=1)),
                field("Record every (steps)", number("record-every", 10, step=1, min=1)),
            ],
            className="row-2",
        ),
    ]
    suite = [
        field("Suite", dropdown("suite", "choose a suite")),
        html.P(id="submit-suite-info", className="muted"),
    ]
    return card(
        "Protocol",
        radios("mode", {"custom": "custom", "suite": "suite preset"}, "custom"),
        html.Div(suite, id="submit-suite-box", style=HIDDEN),
        html.Div(custom, id="submit-custom-box"),
        html.Div(
            [
                field("Criteria profile", dropdown("profile", value="m6", options=["m6"],
                                                   clearable=False)),
                field("Device", dropdown("device", value="auto",
                                         options=["auto", "cpu", "cuda"], clearable=False)),
            ],
            className="row-2",
        ),
    )  # fmt: skip


def check_card() -> html.Section:
    return card(
        "Check",
        html.Div(id="submit-checks"),
        html.Button("Queue", id="submit-button", className="btn btn-primary btn-lg", disabled=True),
        dcc.Loading(html.Div(id="submit-result"), type="dot"),
    )


def form() -> html.Div:
    return html.Div(
        [
            html.Div([potential_card(), structure_card()], className="col"),
            html.Div([protocol_card(), check_card()], className="col"),
        ],
        className="grid-2 submit-grid",
    )
