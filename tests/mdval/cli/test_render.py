"""The CLI's criteria table: a true/false criterion names its metric in every cell."""

from __future__ import annotations

from rich.console import Console

from mdval.cli.render import print_criteria


def _table(criteria: list[dict[str, object]]) -> str:
    console = Console(record=True, width=120, color_system=None)
    print_criteria(console, criteria)
    return console.export_text()


def test_a_true_false_criterion_is_no_double_negative() -> None:
    text = _table(
        [{"name": "no_crash", "metric": "crashed", "value": True, "target": False,
          "acceptable": False, "level": "fail"},
         {"name": "energy_drift", "metric": "drift_percent", "value": 0.25, "target": 1.0,
          "acceptable": 5.0, "level": "target"}]
    )  # fmt: skip
    row = next(line for line in text.splitlines() if "no_crash" in line)
    assert "crashed: yes" in row and row.count("crashed = no") == 2 and "fail" in row
    drift = next(line for line in text.splitlines() if "energy_drift" in line)
    assert "0.25" in drift and "crashed" not in drift
