"""Rich progress bars that follow runs through the listener hooks: one run
(:class:`ProgressListener`), or several running side by side (:class:`ProgressBoard`: the
controls of a suite on parallel threads)."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mdval.md.listener import RunListener, ThermoRecord


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps  {task.fields[thermo]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _thermo(record: ThermoRecord | None) -> str:
    if record is None:
        return ""
    return f"{record.phase[:5]} T={record.temperature_K:7.1f} K  E_tot={record.etot_eV:.4f} eV"


class ProgressBoard:
    """One live display for runs that go side by side: a bar per run, shown from the run's
    start (a control found in the cache never starts, so never shows). Use as a context
    manager; hand :attr:`listeners` (one per label, in order) to the runs."""

    def __init__(self, console: Console, labels: Sequence[str]) -> None:
        self.progress = _progress(console)
        self.listeners: list[RunListener] = [_BoardRow(self.progress, label) for label in labels]

    def __enter__(self) -> ProgressBoard:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()


class _BoardRow(RunListener):
    """One run's bar on a :class:`ProgressBoard` (rich's Progress takes updates from any
    thread)."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress = progress
        self.task: TaskID = progress.add_task(label, total=None, thermo="", visible=False)
        self._last: ThermoRecord | None = None

    def on_start(self, info: dict[str, Any]) -> None:
        self.progress.reset(self.task, total=info["total_steps"], visible=True)

    def on_thermo(self, record: ThermoRecord) -> None:
        self._last = record

    def on_progress(self, done_steps: int, total_steps: int) -> None:
        self.progress.update(self.task, completed=done_steps, thermo=_thermo(self._last))

    def on_end(self, summary: dict[str, Any]) -> None:
        self.progress.update(self.task, visible=False)


class ProgressListener(_BoardRow):
    """Shows steps done, the current temperature and total energy, and the ETA: a board of
    one run, its display up from the run's start to its end."""

    def __init__(self, console: Console, label: str) -> None:
        super().__init__(_progress(console), label)

    def on_start(self, info: dict[str, Any]) -> None:
        self.progress.start()
        super().on_start(info)

    def on_end(self, summary: dict[str, Any]) -> None:
        self.progress.stop()
