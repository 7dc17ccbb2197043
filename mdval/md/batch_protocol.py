"""Several validation runs as replicas of one batch on the torch engine.

A sweep (temperatures × seeds × structures) of one torch potential shares one model call
per step instead of one per run. :func:`batch_key` says which runs can share a batch: the
same model, device, timestep, step counts, record interval and friction — structures,
temperatures, seeds, references and output intervals may differ. :func:`run_validations`
runs such a group and returns, for every run, the same :class:`RunResult` that
:func:`~mdval.md.protocol.run_validation` returns for it alone: replica ``k`` follows the
trajectory of the single run with the same inputs (velocities and thermostat noise come
from the same seeds), a replica that crashes or is cancelled stops while the others go on,
and every run gets its own ``summary.json``, ``thermo.csv`` and trajectory. Only the
timings differ: they are the batch's, with ``batch_size`` recorded next to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mdval.controls.evidence import ControlEvidence
from mdval.errors import InputError
from mdval.md.config import RunConfig
from mdval.md.listener import RunListener
from mdval.md.prepare import PreparedRun, prepare
from mdval.md.protocol import (
    RunResult,
    announce_start,
    finish_run,
    frame_sampler,
    run_observers,
)
from mdval.md.snapshot import Observer
from mdval.md.summary import BatchShare, Outcome
from mdval.md.velocities import degrees_of_freedom
from mdval.metrics.timing import PeakMemory

__all__ = ["batch_key", "can_batch", "run_validations"]

#: The engine a batch runs on.
BATCH_ENGINE = "torch"


def batch_key(config: RunConfig) -> tuple[Any, ...] | None:
    """What runs must share to be replicas of one batch; None if ``config`` cannot batch.

    Only the torch engine batches, so a run pinned to ``engine="ase"`` never does; whether
    the potential is a torch model is known only once it is resolved (:func:`can_batch`).
    """
    if config.engine not in ("auto", BATCH_ENGINE):
        return None
    return (
        config.model,
        config.device,
        config.timestep_fs,
        config.n_equilibration_steps,
        config.n_production_steps,
        config.record_every,
        config.friction_per_ps,
    )


def can_batch(run: PreparedRun) -> bool:
    """A resolved run the torch engine can batch: a torch potential on a molecule, or a
    TorchSim model (periodic too) when the run asks for the torch engine by name (``auto``
    keeps the ASE engine for TorchSim models, see :func:`mdval.md.engine.make_engine`)."""
    if batch_key(run.config) is None or not run.model.is_torch:
        return False
    if run.model.torchsim:
        return run.config.engine == BATCH_ENGINE
    return not any(run.atoms.pbc)


def run_validations(
    configs: Sequence[RunConfig],
    *,
    out_dirs: Sequence[Path | None] | None = None,
    listeners: Sequence[RunListener] | None = None,
    controls: Sequence[ControlEvidence | None] | None = None,
) -> list[RunResult]:
    """Run ``configs`` (one batch key, see :func:`batch_key`) as one batch.

    Bad input raises :class:`~mdval.errors.InputError` before any step, for the whole
    group: configs with different keys, a potential the torch engine cannot run, a periodic
    structure, or a run's own bad input (as :func:`~mdval.md.protocol.prepare` raises it).
    ``controls[k]`` is run ``k``'s control, as ``run_validation``'s ``control``.
    """
    from mdval.md.torch_engine.batch import ReplicaResult, run_batch

    if not configs:
        raise InputError("run_validations needs at least one run")
    n = len(configs)
    out_dirs = list(out_dirs) if out_dirs is not None else [None] * n
    listeners = list(listeners) if listeners is not None else [RunListener() for _ in configs]
    controls = list(controls) if controls is not None else [None] * n
    if len(out_dirs) != n or len(listeners) != n or len(controls) != n:
        raise InputError(f"{n} runs need {n} out_dirs, listeners and controls")
    keys = {batch_key(c) for c in configs}
    if None in keys or len(keys) != 1:
        raise InputError(
            "runs of one batch must share model, device, timestep, duration, equilibration, "
            "record interval and friction, and allow the torch engine"
        )
    runs = [prepare(c) for c in configs]
    for run in runs:
        if not can_batch(run):
            raise InputError(
                f"{run.config.model} on {run.config.structure} cannot run in a batch: "
                "the torch engine needs a torch potential and a non-periodic structure"
            )
    first = configs[0]
    started = datetime.now(UTC)
    total_steps = first.n_equilibration_steps + first.n_production_steps
    thermostatted = first.n_equilibration_steps > 0
    extra: list[list[Observer]] = []
    outputs = []
    samplers = []
    for run, listener, out_dir in zip(runs, listeners, out_dirs, strict=True):
        announce_start(listener, run.atoms, total_steps, run.device)
        evaluator, writer = run_observers(run, listener, out_dir)
        outputs.append((evaluator, writer))
        samplers.append(frame_sampler(run.config, len(run.atoms)))
        extra.append([samplers[-1], *(o for o in (evaluator, writer) if o is not None)])

    memory = PeakMemory()
    with memory:
        result = run_batch(
            runs[0].model,
            [(run.atoms, run.config.temperature_K, run.config.seed) for run in runs],
            n_steps=first.n_production_steps,
            timestep_fs=first.timestep_fs,
            record_every=first.record_every,
            n_equilibration_steps=first.n_equilibration_steps,
            friction_per_ps=first.friction_per_ps,
            device=runs[0].device,
            observers=extra,
            listeners=listeners,
        )
    share = BatchShare(size=n, n_atoms=result.n_atoms)

    def outcome(replica: ReplicaResult) -> Outcome:
        if replica.status == "crashed":
            return Outcome("crashed", replica.reason, replica.time_to_failure_ps, replica.phase)
        if replica.status == "cancelled":
            return Outcome("cancelled", replica.reason, replica.stopped_at_ps, replica.phase)
        return Outcome("completed")

    return [
        finish_run(
            run,
            outcome(replica),
            replica.records,
            evaluator,
            writer,
            result.timings,
            n_dof=degrees_of_freedom(run.atoms, thermostatted=thermostatted),
            peak_memory_MB=memory.peak_MB,
            started=started,
            engine_name=BATCH_ENGINE,
            out_dir=out_dir,
            listener=listener,
            batch=share,
            sampler=sampler,
            control=control,
        )
        for run, replica, (evaluator, writer), out_dir, listener, sampler, control in zip(
            runs, result.replicas, outputs, out_dirs, listeners, samplers, controls, strict=True
        )
    ]
