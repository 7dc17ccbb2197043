"""Files of a run directory: ``summary.json`` and ``thermo.csv`` (the trajectory is streamed)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from mdval.md.listener import ThermoRecord

#: thermo.csv holds physics only, so the same seed gives a byte-identical file; timings
#: (which vary run to run) are summarised in summary.json.
THERMO_COLUMNS = (
    "step",
    "time_ps",
    "phase",
    "epot_eV",
    "ekin_eV",
    "etot_eV",
    "temperature_K",
    "max_force_eV_per_A",
    "pressure_GPa",
)


def write_outputs(out_dir: Path, summary: dict[str, Any], records: list[ThermoRecord]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    write_thermo_csv(out_dir / "thermo.csv", records)


def write_thermo_csv(path: Path, records: list[ThermoRecord]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(THERMO_COLUMNS)
        for r in records:
            row = r.as_dict()
            writer.writerow(["" if row[c] is None else _fmt(row[c]) for c in THERMO_COLUMNS])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # shortest round-trip form: exact float64
    return str(value)
