"""What ``mdval bench`` measures, in which order, and the report it returns."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ase import Atoms

from mdval.bench import measure
from mdval.bench.analysis import summarise
from mdval.bench.records import BenchRecord, jsonable, run_context
from mdval.bench.systems import structure
from mdval.md.torch_engine.model import ForceModel
from mdval.md.torch_engine.neighbours import periodic_model
from mdval.md.torch_engine.torchsim_models import force_model
from mdval.potentials.base import PotentialEntry
from mdval.potentials.registry import resolve_potential

ZOO = ("zoo:original", "zoo:tiny", "zoo:ultra-tiny")


@dataclass(frozen=True)
class BenchPlan:
    """The experiments. The first of ``models`` is the baseline of the speed-up ratios."""

    models: tuple[str, ...] = ZOO
    teacher: str | None = "gfn2-xtb"
    main_structure: str = "alanine-dipeptide"
    size_structures: tuple[str, ...] = (
        "H2O",
        "CH4",
        "alanine",
        "alanine-dipeptide",
        "water-17",
        "water-33",
        "water-67",
        "water-100",
    )
    replicas: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)
    n_steps: int = 200  # single-system engine runs (after warm-up)
    warmup: int = 20
    warmup_calls: int = 200  # calls of each model before any measurement
    rounds: int = 3  # single-system and batch measurements: rounds, interleaved
    bare_calls: int = 100
    long_steps: int = 1000  # long-trajectory throughput (0 = skip)
    batch_budget_s: float = 3.0  # time per batch measurement, sets its repeats (5 .. 50)
    size_budget_s: float = 3.0
    device: str = "cpu"
    threads: int | None = None
    #: Model precisions: each torch model of ``models`` is measured in each (``float32``
    #: adds ``SPEC?dtype=float32``); specs that carry their own options are kept as given.
    dtypes: tuple[str, ...] = ("float64",)
    #: The peer arm (issue 15): TorchSim's NVE beside mdval's engine, same model and inputs,
    #: ``peer_rounds`` interleaved rounds per replica count; skipped where TorchSim is absent.
    peer: bool = True
    peer_replicas: tuple[int, ...] = (1, 8, 32)
    peer_rounds: int = 3
    peer_budget_s: float = 3.0
    peer_check_steps: int = 100  # the correctness line: max |dr| after this many steps
    #: TorchSim runs the module as ``torch.jit.load`` gives it (what its users have); True:
    #: the frozen copy mdval's engine calls, so that only the two loops differ.
    peer_frozen: bool = False


QUICK = BenchPlan(
    size_structures=(),
    replicas=(1, 4, 16),
    n_steps=40,
    warmup=5,
    warmup_calls=10,
    rounds=1,
    bare_calls=20,
    long_steps=0,
    batch_budget_s=0.5,
    peer_budget_s=0.6,
)


def with_dtypes(models: tuple[str, ...], dtypes: tuple[str, ...]) -> tuple[str, ...]:
    """Each spec of ``models`` in each of ``dtypes`` (float64: the spec as given)."""
    out: list[str] = []
    for spec in models:
        for dtype in dtypes:
            if dtype == "float64" or "?" in spec:
                out.append(spec)
            else:
                out.append(f"{spec}?dtype={dtype}")
    return tuple(dict.fromkeys(out))


@dataclass
class BenchReport:
    context: dict[str, Any]
    plan: dict[str, Any]
    records: list[BenchRecord] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "context": self.context,
                "plan": self.plan,
                "wall_s": self.wall_s,
                "records": [r.to_dict() for r in self.records],
                "summary": self.summary,
            }
        )


Progress = Callable[[str], None]


def run_suite(plan: BenchPlan, progress: Progress | None = None) -> BenchReport:
    """Run every experiment of ``plan`` in this process; all ratios come from this run."""
    say = progress or (lambda _msg: None)
    threads = measure.set_threads(plan.threads)
    from mdval.potentials.device import resolve_device

    device = resolve_device(plan.device)
    context = run_context(device)
    report = BenchReport(context=context, plan=_plan_dict(plan, device))
    t0 = time.perf_counter()
    plan = replace(plan, models=with_dtypes(plan.models, plan.dtypes))
    report.plan["models"] = list(plan.models)
    entries = {spec: resolve_potential(spec) for spec in plan.models}
    main = structure(plan.main_structure)
    models = {spec: engine_model(e, device, main) for spec, e in entries.items()}
    for spec in plan.models:  # settle every model first: the first calls of a module are slow
        measure.bare(models[spec], spec, main, n=1, warmup=plan.warmup_calls, device=device)

    def add(rec: BenchRecord) -> None:
        entry = entries.get(rec.model)
        rec.extra.setdefault("dtype", entry.extra.get("dtype") if entry else None)
        rec.device_name = context["device_name"]
        rec.torch_version = context["torch_version"]
        rec.threads = threads
        report.records.append(rec)
        say(_line(rec))

    for spec in plan.models:  # single system: bare model, both engines, interleaved
        for rec in _interleaved(
            plan.rounds,
            [
                lambda spec=spec: measure.bare(  # type: ignore[misc]
                    models[spec], spec, main, n=plan.bare_calls, warmup=plan.warmup, device=device
                ),
                lambda spec=spec: measure.torch_engine(  # type: ignore[misc]
                    models[spec], spec, main, n=plan.n_steps, warmup=plan.warmup, device=device
                ),
                lambda spec=spec: measure.ase_engine(  # type: ignore[misc]
                    entries[spec], spec, main, n=plan.n_steps, warmup=plan.warmup, device=device
                ),
            ],
        ):
            add(rec)
    if plan.teacher:
        teacher = resolve_potential(plan.teacher)
        add(
            measure.ase_engine(
                teacher, plan.teacher, main, n=max(plan.n_steps // 10, 5), warmup=2, device=device
            )
        )

    for spec in plan.models:  # batch scaling
        for r in plan.replicas:
            _batch(add, models[spec], spec, main, r, plan, device)

    if plan.peer:
        scripted = {s: m for s, m in models.items() if entries[s].torchscript_path is not None}
        _peer(add, scripted, main, plan, device, report, say)

    if plan.long_steps > 0:
        for spec in plan.models:
            kw = dict(n=plan.long_steps, warmup=plan.warmup, device=device, experiment="long")
            add(measure.torch_engine(models[spec], spec, main, **kw))  # type: ignore[arg-type]
            add(measure.ase_engine(entries[spec], spec, main, **kw))  # type: ignore[arg-type]

    for name in plan.size_structures:  # cost against size
        atoms = structure(name)
        for spec in plan.models:
            probe = measure.bare(
                models[spec], spec, atoms, n=2, warmup=plan.warmup // 4 + 1, device=device
            )
            n = _repeats(probe.inference_ms_per_step, plan.size_budget_s, 10, plan.n_steps)
            add(
                measure.torch_engine(
                    models[spec],
                    spec,
                    atoms,
                    n=n,
                    warmup=plan.warmup,
                    device=device,
                    experiment="size",
                )
            )
        if plan.teacher:
            add(
                measure.ase_engine(
                    teacher,
                    plan.teacher,
                    atoms,
                    n=_teacher_steps(len(atoms)),
                    warmup=2,
                    device=device,
                    experiment="size",
                )
            )

    report.wall_s = time.perf_counter() - t0
    report.summary = summarise(report.records, plan.models, plan.teacher, plan.main_structure)
    return report


def engine_model(entry: PotentialEntry, device: str, atoms: Atoms) -> ForceModel:
    """The torch engine's model of ``entry`` (a TorchSim model where the entry has one),
    able to take cells when ``atoms`` is periodic."""
    model = force_model(entry, device)
    return periodic_model(model) if atoms.pbc.any() else model


def _batch(
    add: Callable[[BenchRecord], None],
    model: ForceModel,
    spec: str,
    atoms: Atoms,
    replicas: int,
    plan: BenchPlan,
    device: str,
) -> None:
    probe = measure.bare(model, spec, atoms, replicas=replicas, n=1, warmup=2, device=device)
    n = _repeats(probe.inference_ms_per_step, plan.batch_budget_s / plan.rounds, 5, 50)
    kw = dict(replicas=replicas, n=n, warmup=3, device=device, experiment="batch")
    for rec in _interleaved(
        plan.rounds,
        [
            lambda: measure.bare(model, spec, atoms, **kw),  # type: ignore[arg-type]
            lambda: measure.torch_engine(model, spec, atoms, **kw),  # type: ignore[arg-type]
        ],
    ):
        add(rec)


def _peer(
    add: Callable[[BenchRecord], None],
    models: dict[str, ForceModel],
    atoms: Atoms,
    plan: BenchPlan,
    device: str,
    report: BenchReport,
    say: Progress,
) -> None:
    """mdval's engine and TorchSim's NVE, interleaved, per model and replica count; then the
    correctness line (max |dr| after ``peer_check_steps`` from an identical state)."""
    from mdval.bench import torchsim_arm

    why = torchsim_arm.unavailable()
    if why is None and any(atoms.pbc):
        why = f"the arm runs molecules; {atoms.info.get('name', 'the structure')} is periodic"
    elif why is None and not models:
        why = "the arm wraps TorchScript models (zoo:NAME, FILE.pt); none is measured"
    if why is not None:
        report.context["peer"] = {"engine": torchsim_arm.ENGINE, "skipped": why}
        say(f"peer arm skipped: {why}")
        return
    report.context["peer"] = {"engine": torchsim_arm.ENGINE, "version": torchsim_arm.version()}
    report.context["peer"]["module"] = "frozen" if plan.peer_frozen else "as loaded"
    for spec, model in models.items():
        torchsim_arm.warm_up(model, atoms, plan.warmup_calls, device, frozen=plan.peer_frozen)
        for r in plan.peer_replicas:
            probe = measure.bare(model, spec, atoms, replicas=r, n=1, warmup=2, device=device)
            n = _repeats(probe.inference_ms_per_step, plan.peer_budget_s / plan.peer_rounds, 5, 50)
            kw: dict[str, Any] = dict(replicas=r, n=n, warmup=3, device=device, experiment="peer")
            recs = _interleaved(
                plan.peer_rounds,
                [
                    partial(measure.torch_engine, model, spec, atoms, **kw),
                    partial(
                        torchsim_arm.torchsim_engine,
                        model,
                        spec,
                        atoms,
                        frozen=plan.peer_frozen,
                        **kw,
                    ),
                ],
            )
            if r == plan.peer_replicas[0] and plan.peer_check_steps > 0:
                dr = torchsim_arm.max_position_difference_A(
                    model, atoms, n_steps=plan.peer_check_steps, device=device
                )
                recs[1].extra["max_dr_A"] = dr
                recs[1].extra["max_dr_steps"] = plan.peer_check_steps
            for rec in recs:
                add(rec)


def _interleaved(rounds: int, runs: list[Callable[[], BenchRecord]]) -> list[BenchRecord]:
    """Run ``runs`` in turn ``rounds`` times (so slow drifts of the machine hit them alike)
    and merge the rounds of each: medians of the per-round medians, max of peak memory."""
    done: list[list[BenchRecord]] = [[] for _ in runs]
    for _ in range(max(rounds, 1)):
        for k, run in enumerate(runs):
            done[k].append(run())
    return [_merge(recs) for recs in done]


def _merge(recs: list[BenchRecord]) -> BenchRecord:
    if len(recs) == 1:
        return recs[0]

    def med(values: list[float | None]) -> float | None:
        kept = [v for v in values if v is not None]
        return float(statistics.median(kept)) if kept else None

    first = recs[0]
    inference = med([r.inference_ms_per_step for r in recs])
    step = med([r.step_ms for r in recs])
    peaks = [r.peak_memory_MB for r in recs if r.peak_memory_MB is not None]
    # The overhead is a ratio within one round (its steps and its calls, timed together):
    # the median of the rounds' ratios. The ratio of the two medians could pair one round's
    # steps with another round's calls when the host's speed moves between rounds.
    overheads = [r.harness_overhead for r in recs]
    merged = replace(
        first,
        inference_ms_per_step=inference,
        step_ms=step,
        harness_overhead=med(overheads),
        throughput_atom_steps_per_s=med([r.throughput_atom_steps_per_s for r in recs]),
        peak_memory_MB=max(peaks) if peaks else None,
        n_steps=sum(r.n_steps for r in recs),
        extra=dict(first.extra),
    )
    key = "step_ms" if step is not None else "inference_ms_per_step"
    spread = [getattr(r, key) for r in recs]
    cpu = med([r.extra.get("cpu_ms_per_step") for r in recs])
    if cpu is not None:  # the median round, as for the times (not the first, coldest one)
        merged.extra["cpu_ms_per_step"] = cpu
    merged.extra["rounds"] = len(recs)
    merged.extra[f"{key}_per_round"] = spread
    if step is not None:
        merged.extra["inference_ms_per_step_per_round"] = [r.inference_ms_per_step for r in recs]
        merged.extra["harness_overhead_per_round"] = overheads
        for name in ("harness_ms_per_step", "harness_overhead_of_medians", "harness_overhead_mean"):
            if name in first.extra:
                merged.extra[name] = med([r.extra.get(name) for r in recs])
    return merged


def _repeats(ms: float | None, budget_s: float, lo: int, hi: int) -> int:
    if not ms:
        return lo
    return max(lo, min(hi, int(budget_s * 1000.0 / ms)))


def _teacher_steps(n_atoms: int) -> int:
    return 20 if n_atoms < 60 else 10 if n_atoms < 150 else 5


def _plan_dict(plan: BenchPlan, device: str) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(replace(plan, device=device))


def _line(rec: BenchRecord) -> str:
    def f(x: float | None, fmt: str = ".3f") -> str:
        return "-" if x is None else format(x, fmt)

    return (
        f"{rec.experiment:6s} {rec.model:16s} {rec.structure:18s} {rec.engine:5s} "
        f"x{rec.replicas:<4d} inference {f(rec.inference_ms_per_step)} ms  "
        f"step {f(rec.step_ms)} ms  overhead {f(rec.harness_overhead)}"
    )
