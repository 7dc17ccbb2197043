"""Submit: potential (registered, a published family's shipped checkpoint with its dtype,
or a TorchScript upload), structure (built-in, upload or
SMILES with a preview), reference, a suite preset or custom temperatures / timesteps /
duration / equilibration / seeds, the criteria profile. Problems are listed while the form
is filled in and the button stays off; a field the server rejected (a bad SMILES, a refused
upload) is emptied and named there, so Queue cannot send an earlier choice. One click is one
request with one Idempotency-Key (custom runs: ``POST /runs/batch``, all or none); a second
click on the same form replays it instead of queueing twice. The API's answer decides;
success opens the run."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import api, auth, families
from dashboard.components import alert, page_header
from dashboard.submit_checks import api_field, idempotency_key, plan, request_of
from dashboard.submit_form import form

dash.register_page(__name__, path="/submit", name="Submit", title="Submit · mdval", order=1)

FIELDS = (
    "model",
    "model_dtype",
    "reference",
    "structure",
    "structure_source",
    "smiles",
    "mode",
    "suite",
    "temperatures",
    "timesteps",
    "duration_ps",
    "equilibration_ps",
    "seeds",
    "record_every",
    "device",
    "profile",
)
_FORM = [State(f"submit-{f.replace('_', '-')}", "value") for f in FIELDS]


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="submit-catalog"),
            dcc.Store(id="submit-rejected", data={}),
            # one per visit of the page: with the form's request, the Idempotency-Key
            dcc.Store(id="submit-nonce", data=str(uuid.uuid4())),
            dcc.Location(id="submit-go", refresh="callback-nav"),
            page_header(
                "Submit a validation run", "Everything is checked before anything is queued."
            ),
            form(),
        ]
    )


@callback(
    Output("submit-catalog", "data"),
    Output("submit-model", "options"),
    Output("submit-reference", "options"),
    Output("submit-structure", "options"),
    Output("submit-suite", "options"),
    Output("submit-profile", "options"),
    Input("submit-catalog", "id"),
    State("shell-auth", "data"),
)
async def load_catalog(_id: Any, auth_data: Any) -> tuple:
    token = api.token_of(auth_data)
    models, structures, suites, profiles, published = await asyncio.gather(
        api.get("/models", token=token),
        api.get("/structures", token=token),
        api.get("/suites", token=token),
        api.get("/profiles", token=token),
        api.get("/families", token=token),
    )
    catalog = {
        "models": {m["spec"]: m for m in models["items"]},
        "structures": {s["spec"]: s for s in structures["items"]},
        "suites": {s["name"]: s for s in suites["items"]},
        "families": published["items"],
    }
    return (catalog, *_options(catalog), [s["name"] for s in suites["items"]], profiles)


def _options(catalog: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    models = families.picker_options(catalog)
    structures = [
        {"label": f"{s['name']}  ·  {s['formula']} ({s['n_atoms']} atoms)", "value": s["spec"]}
        for s in catalog["structures"].values()
    ]
    return models, models, structures


@callback(
    Output("submit-model-dtype", "options"),
    Output("submit-model-dtype", "value"),
    Output("submit-model-options", "style"),
    Output("submit-model-info", "children"),
    Input("submit-model", "value"),
    Input("submit-catalog", "data"),
)
def model_options(spec: Any, catalog: Any) -> tuple:
    """The family option control (dtype) and what the chosen model covers."""
    return families.option_control(catalog or {}, spec)


@callback(
    Output("submit-structure-pick", "style"),
    Output("submit-structure-file", "style"),
    Output("submit-structure-smiles", "style"),
    Output("submit-suite-box", "style"),
    Output("submit-custom-box", "style"),
    Output("submit-structure-source", "style"),
    Input("submit-structure-source", "value"),
    Input("submit-mode", "value"),
)
def sections(source: str, mode: str) -> tuple:
    show: dict[str, str] = {}
    hide = {"display": "none"}
    suite = mode == "suite"
    return (
        show if source == "builtin" and not suite else hide,
        show if source == "upload" and not suite else hide,
        show if source == "smiles" and not suite else hide,
        show if suite else hide,
        hide if suite else show,
        hide if suite else show,
    )


def _form(values: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(FIELDS, values, strict=True))


def _text(message: str) -> Any:
    """A message whose later lines are preformatted (RDKit's SMILES and the caret under the
    position it names stay aligned)."""
    first, _, rest = message.partition("\n")
    return [first, html.Pre(rest, className="message-pre")] if rest else message


@callback(
    Output("submit-checks", "children"),
    Output("submit-button", "disabled"),
    Output("submit-structure-info", "children"),
    Output("submit-suite-info", "children"),
    [Input(f"submit-{f.replace('_', '-')}", "value") for f in FIELDS],
    Input("submit-catalog", "data"),
    Input("submit-rejected", "data"),
    Input("shell-auth", "data"),
)
def check(*args: Any) -> tuple:
    *values, catalog, rejected, auth_data = args
    form = _form(tuple(values))
    catalog = catalog or {}
    bodies, problems = plan(form, catalog, rejected)
    s = catalog.get("structures", {}).get(form.get("structure") or "")
    info = (
        [
            html.B(s["formula"]),
            f" · {s['n_atoms']} atoms · elements {', '.join(s['elements'])}"
            + (" · periodic" if s.get("periodic") else ""),
        ]
        if s
        else None
    )
    suite = catalog.get("suites", {}).get(form.get("suite") or "")
    suite_info = (suite.get("description") or "") if suite else ""
    items = [html.Li(_text(p), className="problem") for p in problems]
    if not auth.can_write(auth_data):
        items.append(
            html.Li(
                "Sign in with a submitter token (top right) to queue runs.", className="problem"
            )
        )
    if not items:
        what = (
            f"the {form['suite']} suite ({suite.get('n_runs') or '?'} runs)"
            if suite and form.get("mode") == "suite"
            else f"{len(bodies)} run{'s' if len(bodies) != 1 else ''}"
            + (" as one submission" if len(bodies) > 1 else "")
        )
        return html.P(f"Ready: queues {what}.", className="ok"), False, info, suite_info
    return html.Ul(items, className="problems"), True, info, suite_info


@callback(
    Output("submit-result", "children"),
    Output("submit-go", "href"),
    Input("submit-button", "n_clicks"),
    *_FORM,
    State("submit-catalog", "data"),
    State("submit-rejected", "data"),
    State("submit-nonce", "data"),
    State("shell-auth", "data"),
    prevent_initial_call=True,
)
async def submit(_n: Any, *args: Any) -> tuple[Any, Any]:
    *values, catalog, rejected, nonce, auth_data = args
    form = _form(tuple(values))
    bodies, problems = plan(form, catalog or {}, rejected)
    if problems:
        return html.Ul([html.Li(_text(p)) for p in problems], className="problems"), no_update
    path, body = request_of(bodies, suite=form.get("mode") == "suite")
    key = idempotency_key(str(nonce), path, body)
    try:
        answer = await api.post(
            path, token=api.token_of(auth_data), json=body, headers={"Idempotency-Key": key}
        )
    except api.ApiError as exc:
        where = f" ({api_field(exc.field)})" if exc.field else ""
        return alert(_text(f"Nothing queued{where}: {exc.detail}")), no_update
    n = len(answer["runs"])
    if answer.get("replayed"):
        note = f"Already queued: this form was submitted before ({n} run(s)); nothing queued twice."
        return alert(note, "info"), f"/runs/{answer['id']}"
    return alert(f"Queued {n} run(s).", "success"), f"/runs/{answer['id']}"


async def _upload(path: str, field: str, filename: str, contents: str, auth_data: Any) -> Any:
    raw = base64.b64decode(contents.split(",", 1)[1])
    files = {field: (filename, raw, "application/octet-stream")}
    return await api.post(path, token=api.token_of(auth_data), files=files)


@callback(
    Output("submit-catalog", "data", allow_duplicate=True),
    Output("submit-model", "options", allow_duplicate=True),
    Output("submit-reference", "options", allow_duplicate=True),
    Output("submit-structure", "options", allow_duplicate=True),
    Output("submit-model", "value"),
    Output("submit-structure", "value"),
    Output("submit-model-upload-status", "children"),
    Output("submit-structure-status", "children"),
    Output("submit-rejected", "data"),
    Input("submit-model-upload", "contents"),
    Input("submit-structure-upload", "contents"),
    Input("submit-smiles-preview", "n_clicks"),
    Input("submit-smiles", "n_submit"),
    State("submit-model-upload", "filename"),
    State("submit-structure-upload", "filename"),
    State("submit-smiles", "value"),
    State("submit-catalog", "data"),
    State("submit-rejected", "data"),
    State("shell-auth", "data"),
    prevent_initial_call=True,
)
async def register(
    model_file: Any,
    structure_file: Any,
    _p: Any,
    _s: Any,
    model_name: Any,
    structure_name: Any,
    smiles: Any,
    catalog: Any,
    rejected: Any,
    auth_data: Any,
) -> tuple:
    """Register an upload or a SMILES and select it; when the server rejects it, empty the
    field and remember why (:func:`dashboard.submit_checks.plan` names it)."""
    trigger = dash.ctx.triggered_id
    keep: list[Any] = [no_update] * 9
    rejected = dict(rejected or {})
    is_model = trigger == "submit-model-upload"
    field = "model" if is_model else "structure"
    what = (
        f"SMILES '{(smiles or '').strip()}'"
        if trigger in ("submit-smiles-preview", "submit-smiles")
        else f"file '{model_name if is_model else structure_name}'"
    )
    try:
        if is_model and model_file:
            row = await _upload("/models", "file", model_name, model_file, auth_data)
            catalog["models"][row["spec"]] = row
            note = alert(
                f"Uploaded {row['spec']}: {row['status']}.",
                "success" if row["status"] == "ready" else "info",
            )
            rejected.pop("model", None)
            return (catalog, *_options(catalog), row["spec"], no_update, note, None, rejected)
        if trigger == "submit-structure-upload" and structure_file:
            row = await _upload("/structures", "file", structure_name, structure_file, auth_data)
        elif trigger in ("submit-smiles-preview", "submit-smiles") and smiles:
            row = await api.post(
                "/structures", token=api.token_of(auth_data), data={"smiles": smiles.strip()}
            )
        else:
            return tuple(keep)
    except api.ApiError as exc:
        keep[4 if is_model else 5] = None  # nothing chosen: the earlier choice cannot be sent
        keep[6 if is_model else 7] = alert(_text(exc.detail))
        keep[8] = {**rejected, field: {"what": what, "detail": exc.detail}}
        return tuple(keep)
    catalog["structures"][row["spec"]] = row
    rejected.pop("structure", None)
    return (catalog, *_options(catalog), no_update, row["spec"], no_update, None, rejected)
