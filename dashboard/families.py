"""Published model families in the dashboard (``GET /api/v1/families``): their shipped
checkpoints in the submit form's model picker beside the registered models, the option
control (``dtype``) that builds the canonical spec, and the catalogue page's rows.

Everything comes from the API: each checkpoint's canonical spec with the defaults
(``ani:1x?dtype=float32``), whether the family's package is installed on the server, and the
message a run naming it would get when it is not (a 422 naming the extra).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

#: The family option the form offers a control for (the shipped families declare ``dtype``
#: and ``device``; ``device`` follows the run's own device field).
OPTION = "dtype"


def checkpoints(families: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Canonical default spec -> the shipped checkpoint with its family's facts."""
    out: dict[str, dict[str, Any]] = {}
    for f in families:
        for c in f.get("checkpoints") or []:
            out[c["spec"]] = {
                **c,
                "family": f["family"],
                "base": f"{f['family']}:{c['name']}",
                "elements": f["elements"],
                "extra": f["extra"],
                "package": f["package"],
                "installed": f.get("installed"),
                "missing": f.get("missing"),
                "options": {o["name"]: o for o in f["options"]},
            }
    return out


def needs(extra: str) -> str:
    return f"needs pip install 'mdval[{extra}]'"


def picker_options(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """The model picker: registered models that are ready, then the families' shipped
    checkpoints (value: their canonical default spec). A registered family row is reached
    through its checkpoint and the option control, so it is not listed twice; a family whose
    package the server lacks is shown disabled with the extra that installs it."""
    ready = [
        m
        for m in catalog.get("models", {}).values()
        if m["status"] == "ready" and m.get("kind") != "family"
    ]
    options: list[dict[str, Any]] = [
        {"label": f"{m['name']}  ·  {m['spec']}", "value": m["spec"]} for m in ready
    ]
    for spec, c in checkpoints(catalog.get("families", [])).items():
        missing = c["installed"] is None
        tail = needs(c["extra"]) if missing else c["elements"]
        options.append(
            {"label": f"{c['title']} ({c['base']})  ·  {tail}", "value": spec, "disabled": missing}
        )
    return options


def with_option(spec: str, name: str, value: str | None) -> str:
    """``ani:1x?dtype=float32`` with ``dtype=float64``: the canonical spec the API gives,
    one option's value replaced (its order kept: the API's spelling stays canonical)."""
    head, _, query = spec.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    if value is None or name not in dict(pairs):
        return spec
    return head + "?" + "&".join(f"{k}={value if k == name else v}" for k, v in pairs)


def resolved_model(form: dict[str, Any], catalog: dict[str, Any]) -> str | None:
    """The model spec the form sends: a family checkpoint with the chosen option value."""
    spec = form.get("model") or None
    c = checkpoints(catalog.get("families", [])).get(spec or "")
    if spec is None or c is None:
        return spec
    choices = (c["options"].get(OPTION) or {}).get("choices") or []
    value = form.get("model_dtype")
    return with_option(spec, OPTION, value if value in choices else None)


def family_problem(form: dict[str, Any], catalog: dict[str, Any]) -> str | None:
    """A family checkpoint whose package the server lacks (the picker disables it)."""
    for role in ("model", "reference"):
        c = checkpoints(catalog.get("families", [])).get(form.get(role) or "")
        if c is not None and c["installed"] is None:
            return f"{role} {c['title']} ({c['base']}): {c['missing'] or needs(c['extra'])}"
    return None


def option_control(
    catalog: dict[str, Any], spec: str | None
) -> tuple[list[dict[str, str]], str | None, dict[str, str], list[Any] | str]:
    """The option control under the picker (options, value, style) and a line saying what
    the chosen model covers: a family's elements and package, a registered model's
    supported elements."""
    hidden = {"display": "none"}
    c = checkpoints(catalog.get("families", [])).get(spec or "")
    if c is None:
        m = catalog.get("models", {}).get(spec or "")
        elements = (m or {}).get("supported_elements")
        info = f"elements: {' '.join(elements)}" if elements else ""
        return [], None, hidden, info
    option = c["options"].get(OPTION)
    where = f"{c['package']} {c['installed']}" if c["installed"] else needs(c["extra"])
    info = f"{c['title']} · elements: {c['elements']} · {where}"
    if option is None:
        return [], None, hidden, info
    choices = [{"label": v, "value": v} for v in option["choices"]]
    return choices, option["default"], {}, info


def catalogue_rows(families: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per family for the catalogue page's table."""
    rows = []
    for f in families:
        rows.append(
            {
                "family": f["family"],
                "summary": f["summary"],
                "elements": f["elements"],
                "options": "; ".join(
                    f"{o['name']}: {' | '.join(o['choices'])} (default {o['default']})"
                    for o in f["options"]
                ),
                "shipped": ", ".join(
                    f"{c['title']} ({f['family']}:{c['name']})" for c in f.get("checkpoints") or []
                )
                or "none: a local checkpoint path",
                "example": f["example"],
                "install": f"pip install 'mdval[{f['extra']}]'",
                "installed": (
                    f"{f['package']} {f['installed']}" if f.get("installed") else "not installed"
                ),
            }
        )
    return rows
