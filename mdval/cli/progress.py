"""A rich progress bar that follows a run through the listener hooks."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mdval.md.listener import RunListener, ThermoRecord


class ProgressListener(RunListener):
    """Shows steps done, the current temperature and total energy, and the ETA."""

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
        self.progress: Progress | None = None
        self.task: Any = None
        self._last: ThermoRecord | None = None

    def on_start(self, info: dict[str, Any]) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps  {task.fields[thermo]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        self.progress.start()
        self.task = self.progress.add_task(self.label, total=info["total_steps"], thermo="")

    def on_thermo(self, record: ThermoRecord) -> None:
        self._last = record

    def on_progress(self, done_steps: int, total_steps: int) -> None:
        if self.progress is None:
            return
        r = self._last
        thermo = f"{r.phase[:5]} T={r.temperature_K:7.1f} K  E_tot={r.etot_eV:.4f} eV" if r else ""
        self.progress.update(self.task, completed=done_steps, thermo=thermo)

    def on_end(self, summary: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.stop()
