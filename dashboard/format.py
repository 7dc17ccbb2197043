"""Numbers, times and levels as the dashboard shows them (units in the labels, never lost)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

#: Colours of the criteria levels and run states; the same in the app and the report.
LEVEL_COLOURS = {
    "target": "#1a7f37",
    "acceptable": "#b26b00",
    "fail": "#c62828",
    "inconclusive": "#0b6e99",
    "protocol invalid": "#6f42c1",
    "not_evaluated": "#6b7280",
    "pending": "#6b7280",
}
LEVEL_BACKGROUNDS = {
    "target": "#dcf5e3",
    "acceptable": "#fff1d6",
    "fail": "#fde2e1",
    "inconclusive": "#ddf1fa",
    "protocol invalid": "#ece4fa",
    "not_evaluated": "#eef0f3",
    "pending": "#eef0f3",
}
STATUS_COLOURS = {
    "queued": "#6b7280",
    "running": "#1f6feb",
    "completed": "#1a7f37",
    "crashed": "#c62828",
    "failed": "#8250df",
    "cancelled": "#6b7280",
}
RECOMMENDATION_LEVELS = {
    "inconclusive": "inconclusive",
    "production": "target",
    "production with caveats": "acceptable",
    "pre-equilibration only": "acceptable",
    "energy screening only": "fail",
    "not recommended": "fail",
}
LEVEL_LABELS = {
    "target": "target",
    "acceptable": "acceptable",
    "fail": "fail",
    "inconclusive": "inconclusive",
    "protocol invalid": "protocol invalid",
    "not_evaluated": "not evaluated",
    "pending": "pending",
}
ACTIVE_STATUSES = ("queued", "running")
#: A run's verdict -> the level its badge is drawn with (the verdicts are levels themselves).
VERDICT_LEVELS = {
    "pass": "target",
    "fail": "fail",
    "inconclusive": "inconclusive",
    "protocol invalid": "protocol invalid",
}


def verdict_counts(runs: list[dict[str, Any]]) -> str:
    """``3 pass · 1 fail · 2 inconclusive · 1 protocol invalid`` (only the non-zero ones)."""
    counts = {v: sum(1 for r in runs if r.get("verdict") == v) for v in VERDICT_LEVELS}
    text = " · ".join(f"{n} {v}" for v, n in counts.items() if n)
    return text or "no verdict yet"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def num(value: Any, digits: int = 3, unit: str = "") -> str:
    """``value`` with ``digits`` significant digits (scientific when tiny or huge), or '—'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not is_number(value):
        return "—"
    v = float(value)
    if v != 0 and (abs(v) < 10 ** -(digits - 1) or abs(v) >= 10 ** (digits + 3)):
        text = f"{v:.{max(digits - 1, 1)}e}"
    elif abs(v) >= 10 ** (digits - 1):
        text = f"{v:,.0f}"
    else:
        text = f"{v:.{digits}g}"
    return f"{text} {unit}".rstrip() if unit else text


def percent(value: Any, digits: int = 0) -> str:
    """A fraction (0..1) as a percentage."""
    return "—" if not is_number(value) else f"{100 * float(value):.{digits}f} %"


def duration(seconds: Any) -> str:
    """``1 h 02 min``, ``3 min 20 s``, ``12 s``; '—' when unknown."""
    if not is_number(seconds):
        return "—"
    s = max(0, round(float(seconds)))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: Any, *, now: datetime | None = None) -> str:
    """A timestamp as 'HH:MM UTC' today, else 'YYYY-MM-DD HH:MM UTC', with '(5 min ago)'."""
    t = parse_time(value)
    if t is None:
        return "—"
    now = now or datetime.now(UTC)
    ago = (now - t).total_seconds()
    stamp = t.strftime("%H:%M UTC") if t.date() == now.date() else t.strftime("%Y-%m-%d %H:%M")
    if 0 <= ago < 48 * 3600:
        return f"{stamp} ({duration(ago)} ago)"
    return stamp


def short_spec(spec: str | None, limit: int = 40) -> str:
    """A spec that fits a table cell (uploads and SMILES can be long)."""
    if not spec:
        return "—"
    return spec if len(spec) <= limit else spec[: limit - 1] + "…"
