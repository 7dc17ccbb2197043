"""Find a run's control in the cache, or run it and cache it.

The cache is a directory (``MDVAL_CONTROL_CACHE_DIR``, default ``~/.cache/mdval/controls``)
with one folder per control key holding the control's ``summary.json``, ``thermo.csv``,
``trajectory.extxyz`` and ``frames.npz``; ``control.json`` is written last and marks a
complete entry. A lock file serialises two processes computing the same control.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from mdval.controls.evidence import ControlEvidence
from mdval.controls.key import control_config, control_key
from mdval.errors import RunCancelled
from mdval.md.config import RunConfig
from mdval.md.listener import RunListener
from mdval.md.prepare import PreparedRun, prepare
from mdval.settings import get_settings
from mdval.structures import describe_structure

_MARKER = "control.json"


def cache_dir() -> Path:
    """The control cache directory (created on use)."""
    configured = get_settings().control_cache_dir
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mdval" / "controls"


def key_of(run: PreparedRun) -> str:
    """The control key of a prepared run (which must have a reference)."""
    assert run.reference is not None
    return control_key(
        run.config,
        reference_sha256=run.reference.sha256,
        structure_sha256=describe_structure(run.atoms)["sha256"],
    )


def is_self_controlled(run: PreparedRun) -> bool:
    """The model is the reference itself: the run is its own control."""
    return run.reference is not None and run.model.sha256 == run.reference.sha256


def load_control(key: str, directory: Path | None = None) -> ControlEvidence | None:
    """The cached control ``key``, or None."""
    folder = (directory or cache_dir()) / key
    if not (folder / _MARKER).is_file():
        return None
    summary = json.loads((folder / "summary.json").read_text())
    frames: dict[str, np.ndarray] = {}
    if (folder / "frames.npz").is_file():
        with np.load(folder / "frames.npz") as data:
            frames = {name: data[name] for name in data.files}
    return ControlEvidence(summary=summary, key=key, frames=frames, location=str(folder))


def resolve_control(
    run: PreparedRun,
    *,
    directory: Path | None = None,
    listener: RunListener | None = None,
) -> ControlEvidence | None:
    """The control a run is judged against: itself when the model is the reference, else
    cached or run now (:func:`find_or_run_control`); None without a reference."""
    if run.reference is None:
        return None
    if is_self_controlled(run):
        return ControlEvidence(summary={}, key=key_of(run), is_self=True)
    return find_or_run_control(run, directory=directory, listener=listener)


def resolve_controls(
    runs: Sequence[PreparedRun],
    *,
    directory: Path | None = None,
    listeners: Sequence[RunListener | None] | None = None,
    max_workers: int | None = None,
) -> list[ControlEvidence | None]:
    """:func:`resolve_control` of each of ``runs`` (a batch's), in order. The controls not
    yet cached run side by side on up to ``max_workers`` threads (default: the CPUs this
    process may use) when their reference computes on one thread (its entry's
    ``extra["threads"] == 1``: GFN2-xTB, whose tblite calls leave Python's lock free), so on
    two cores two controls take about the time of one; other references (a torch model
    already uses every core) run one by one. The dearest (:func:`control_cost`) start
    first. Each control is computed as alone (its own calculator, seeds and folder): the
    evidence is the same in any order. The first failure (a cancel) is raised once every
    started control ended.
    """
    return _side_by_side(
        runs, resolve_control, directory, listeners, max_workers, self_controlled=False
    )


def find_or_run_controls(
    runs: Sequence[PreparedRun],
    *,
    directory: Path | None = None,
    listeners: Sequence[RunListener | None] | None = None,
    max_workers: int | None = None,
) -> list[ControlEvidence | None]:
    """:func:`find_or_run_control` of each of ``runs``, in order, the missing ones side by
    side as in :func:`resolve_controls` — also for a run of the reference itself (whose
    verdict needs no control): ``mdval control`` pre-computes the cells this way."""
    return _side_by_side(
        runs, find_or_run_control, directory, listeners, max_workers, self_controlled=True
    )


def _side_by_side(
    runs: Sequence[PreparedRun],
    find: Callable[..., ControlEvidence | None],
    directory: Path | None,
    listeners: Sequence[RunListener | None] | None,
    max_workers: int | None,
    *,
    self_controlled: bool,
) -> list[ControlEvidence | None]:
    """``find(run, directory=, listener=)`` of each run, the uncached controls on a pool."""
    listeners = list(listeners) if listeners is not None else [None] * len(runs)
    root = directory or cache_dir()
    missing = [
        k
        for k, run in enumerate(runs)
        if run.reference is not None
        and (self_controlled or not is_self_controlled(run))
        and control_config(run.config) is not None
        and not (root / key_of(run) / _MARKER).is_file()  # cached ones are read once, below
    ]
    single_threaded = all(
        (runs[k].reference.extra or {}).get("threads") == 1  # type: ignore[union-attr]
        for k in missing
    )
    workers = max_workers if max_workers is not None else len(os.sched_getaffinity(0))
    workers = max(1, min(workers if single_threaded else 1, len(missing)))

    def one(k: int) -> ControlEvidence | None:
        return find(runs[k], directory=root, listener=listeners[k])

    if workers == 1:
        return [one(k) for k in range(len(runs))]
    # Longest first (atom-steps: a control's cost grows with both), so that the longest
    # control does not start last while the other threads idle: m6-quick's three
    # alanine-dipeptide controls start before its six small-molecule ones.
    order = sorted(missing, key=lambda k: -control_cost(runs[k]))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="control") as pool:
        running = {k: pool.submit(one, k) for k in order}
    # ``with`` waited for every control; cached ones are read now, in the caller's thread
    return [running[k].result() if k in running else one(k) for k in range(len(runs))]


def control_cost(run: PreparedRun) -> int:
    """What a run's control costs, roughly: its atoms times its steps (equilibration and
    production). Only the order matters (:func:`resolve_controls` starts the dearest first)."""
    return len(run.atoms) * (run.config.n_equilibration_steps + run.config.n_production_steps)


def find_or_run_control(
    run: PreparedRun,
    *,
    directory: Path | None = None,
    listener: RunListener | None = None,
) -> ControlEvidence | None:
    """The control of ``run`` from the cache, else run now and cached; None without a
    reference. Only a finished control (completed or crashed) is cached; one cancelled
    through ``listener`` raises :class:`~mdval.errors.RunCancelled`."""
    control = control_config(run.config)
    if control is None or run.reference is None:
        return None
    key = key_of(run)
    root = directory or cache_dir()
    cached = load_control(key, root)
    if cached is not None:
        return cached
    folder = root / key
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / ".lock"):
        cached = load_control(key, root)  # another process may have finished it meanwhile
        if cached is not None:
            return cached
        from mdval.md.protocol import run_validation  # the protocol imports this package

        result = run_validation(control, out_dir=folder, listener=listener or RunListener())
        if result.status not in ("completed", "crashed"):
            # A cancelled control is no evidence about the protocol: cache nothing, and stop
            # the run it was for as well.
            raise RunCancelled(
                f"cancelled while its control ran: {result.summary.get('failure_reason')}"
            )
        store_frames(folder, result.frames)
        _write_marker(folder, key, control)
    return load_control(key, root)


def cache_self_run(
    run: PreparedRun,
    summary: dict[str, Any],
    frames: dict[str, np.ndarray],
    *,
    directory: Path | None = None,
) -> Path | None:
    """Cache a finished run of the reference against itself as the control of its cell.

    Its trajectory is the control's (evaluating the reference on sampled frames does not
    change the dynamics), so every model later judged in that cell reuses it. Returns the
    cache folder, or None when nothing was cached (not self-controlled, not finished, or
    already cached).
    """
    if not is_self_controlled(run) or summary.get("status") not in ("completed", "crashed"):
        return None
    control = control_config(run.config)
    assert control is not None
    key = key_of(run)
    root = directory or cache_dir()
    folder = root / key
    if (folder / _MARKER).is_file():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / ".lock"):
        if (folder / _MARKER).is_file():
            return None
        (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        store_frames(folder, frames)
        _write_marker(folder, key, control)
    return folder


def store_frames(folder: Path, frames: dict[str, np.ndarray]) -> None:
    """The sampled frames of a run, as ``frames.npz`` in its folder."""
    if frames:
        np.savez_compressed(folder / "frames.npz", **frames)  # type: ignore[arg-type]


def _write_marker(folder: Path, key: str, config: RunConfig) -> None:
    data: dict[str, Any] = {"key": key, "config": config.model_dump()}
    tmp = folder / (_MARKER + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(folder / _MARKER)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def precompute(config: RunConfig, **kwargs: Any) -> ControlEvidence | None:
    """Run (or find) the control of ``config``; for ``mdval control``."""
    return find_or_run_control(prepare(config), **kwargs)
