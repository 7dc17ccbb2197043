"""A populated database for the dashboard's tests and benchmarks, without workers or torch:
the registry rows the core would register, N finished runs with plausible metrics, a long
run (50 ps at 0.5 fs, recorded every 10 steps = 10,000 thermo records, a force-error sample
and a trajectory frame every 100 steps) and its teacher run from the same start."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import catalog, series
from app.db.base import utcnow
from app.db.models import Recommendation, Run

REPO = Path(__file__).resolve().parents[2]

DATA = REPO / "mdval" / "structures" / "data"
MODELS = {
    # spec: (name, kind, n_params, elements, base force RMSE eV/Å, inference ms, crash prob)
    "zoo:original": ("original", "zoo", 426_020, ["C", "H", "N", "O"], 0.12, 9.0, 0.0),
    "zoo:tiny": ("tiny", "zoo", 75_950, ["C", "H", "N", "O"], 0.21, 4.0, 0.05),
    "zoo:ultra-tiny": ("ultra-tiny", "zoo", 21_350, ["C", "H", "N", "O"], 0.34, 2.5, 0.2),
    "gfn2-xtb": ("GFN2-xTB (tblite)", "xtb", None, ["C", "H", "N", "O", "Cu"], 0.0, 60.0, 0.0),
    "emt": ("EMT", "ase", None, ["Ag", "Al", "Au", "Cu", "Ni", "Pd", "Pt"], 0.0, 1.0, 0.0),
}
STRUCTURES = {
    "H2O": "h2o.xyz",
    "CH4": "ch4.xyz",
    "alanine": "alanine.xyz",
    "alanine-dipeptide": "alanine_dipeptide.xyz",
    "cu-fcc": "cu_fcc.xyz",
}
RECOMMENDATIONS = {
    "zoo:original": "production with caveats",
    "zoo:tiny": "pre-equilibration only",
    "zoo:ultra-tiny": "not recommended",
    "gfn2-xtb": "production with caveats",
}


def read_xyz(name: str) -> tuple[list[str], np.ndarray, str]:
    lines = (DATA / name).read_text().splitlines()
    n = int(lines[0])
    symbols = [line.split()[0] for line in lines[2 : 2 + n]]
    pos = np.array([[float(x) for x in line.split()[1:4]] for line in lines[2 : 2 + n]])
    return symbols, pos, lines[1]


def seed_catalog(engine: Engine) -> None:
    """Registry rows shaped as ``workers.seed`` writes them (from the core's data files)."""
    with Session(engine) as s:
        for spec, (name, kind, n_params, elements, *_rest) in MODELS.items():
            catalog.upsert_potential(
                s,
                spec=spec,
                values={
                    "name": name,
                    "kind": kind,
                    "core_spec": spec,
                    "sha256": uuid.uuid4().hex * 2,
                    "n_params": n_params,
                    "supported_elements": sorted(elements),
                    "periodic_ok": kind != "zoo",
                    "status": "ready",
                    "error": None,
                    "builtin": True,
                    "description": {},
                    "created_by": "seed",
                },
            )
        for spec, file in STRUCTURES.items():
            symbols, _pos, comment = read_xyz(file)
            counts: dict[str, int] = {}
            for x in symbols:
                counts[x] = counts.get(x, 0) + 1
            formula = "".join(f"{k}{v if v > 1 else ''}" for k, v in sorted(counts.items()))
            catalog.upsert_structure(
                s,
                spec=spec,
                values={
                    "name": spec,
                    "source": "builtin",
                    "core_spec": spec,
                    "formula": formula,
                    "n_atoms": len(symbols),
                    "elements": sorted(counts),
                    "periodic": "Lattice=" in comment,
                    "sha256": None,
                    "description": {},
                    "created_by": "seed",
                },
            )
        for path in sorted((REPO / "mdval" / "suites" / "data").glob("*.yaml")):
            d = yaml.safe_load(path.read_text())
            catalog.upsert_suite(
                s,
                name=d["name"],
                values={
                    "description": d.get("description"),
                    "definition": d,
                    "builtin": True,
                    "n_runs": len(d["structures"])
                    * len(d["temperatures_K"])
                    * len(d["timesteps_fs"])
                    + len(d.get("extra_runs", [])),
                },
            )
        profile = yaml.safe_load((REPO / "mdval/criteria/profiles/m6.yaml").read_text())
        catalog.upsert_profile(s, name="m6", definition=profile)
        s.commit()


def _run(s: Session, *, model: str, structure: str, **fields: Any) -> Run:
    m, st = catalog.get_potential(s, key=model), catalog.get_structure(s, key=structure)
    assert m is not None and st is not None
    config = {
        "model": model,
        "structure": structure,
        "reference": fields.get("reference_spec"),
        "temperature_K": fields["temperature_K"],
        "timestep_fs": fields["timestep_fs"],
        "duration_ps": fields["duration_ps"],
        "equilibration_ps": fields.get("equilibration_ps", 0.0),
        "seed": fields.get("seed", 0),
        "profile": "m6",
        "device": "cpu",
        "record_every": 10,
        "frame_every": 100,
        "reference_every": 100,
    }
    reference = (
        catalog.get_potential(s, key=fields["reference_spec"])
        if fields.get("reference_spec")
        else None
    )
    defaults = {
        "equilibration_ps": 0.0,
        "seed": 0,
        "profile": "m6",
        "device": "cpu",
        "queue": "cpu",
        "cancel_requested": False,
        "attempt": 1,
        "max_attempts": 2,
        "created_by": "seed",
        "n_atoms": st.n_atoms,
        "formula": st.formula,
        "done_steps": 0,
        "progress": 0.0,
    }
    run = Run(
        submission_id=str(uuid.uuid4()),
        model_id=m.id,
        structure_id=st.id,
        reference_id=reference.id if reference else None,
        model_spec=model,
        structure_spec=structure,
        config=config,
        **{**defaults, **fields},
    )
    s.add(run)
    return run


def populate_runs(engine: Engine, n_runs: int, *, seed: int = 0) -> None:
    """``n_runs`` finished (and a few active) runs over the last three days."""
    rng = np.random.default_rng(seed)
    now = utcnow()
    specs = [m for m in MODELS if m.startswith("zoo:")] + ["gfn2-xtb"]
    mol = ["H2O", "CH4", "alanine", "alanine-dipeptide"]
    with Session(engine) as s:
        for i in range(n_runs):
            model = specs[i % len(specs)]
            _n, _k, _p, _el, f_rmse, inf_ms, p_crash = MODELS[model]
            t, dt = float(rng.choice([100, 300, 500])), float(rng.choice([0.5, 1.0, 2.0]))
            finished = now - timedelta(minutes=float(rng.uniform(1, 3 * 24 * 60)))
            status = str(
                rng.choice(
                    ["completed", "crashed", "failed"], p=[1 - p_crash - 0.01, p_crash, 0.01]
                )
            )
            drift = abs(rng.normal(0.3 * dt**2 * (1 + 3 * f_rmse), 0.2))
            force = (
                max(0.0, rng.normal(f_rmse * (1 + t / 1000), 0.02)) if model != "gfn2-xtb" else None
            )
            verdict = (
                "pass" if status == "completed" and drift < 5 and (force or 0) < 0.3 else "fail"
            )
            _run(
                s,
                model=model,
                structure=mol[(i // len(specs)) % 4],
                temperature_K=t,
                timestep_fs=dt,
                duration_ps=10.0,
                equilibration_ps=1.0,
                suite="m6-full" if i % 3 else "m6-quick",
                reference_spec=None if model == "gfn2-xtb" else "gfn2-xtb",
                status=status,
                created_at=finished - timedelta(minutes=10),
                started_at=finished - timedelta(minutes=9),
                finished_at=finished,
                progress=1.0,
                verdict=verdict,
                total_steps=int(10_000 / dt),
                failure_reason={
                    "crashed": "bond collapse: max |Δb| 0.62 Å > 0.5 Å",
                    "failed": "worker lost (no heartbeat for 90 s)",
                }.get(status),
                time_to_failure_ps=float(rng.uniform(0.5, 9)) if status == "crashed" else None,
                drift_percent=drift,
                drift_meV_per_atom_per_ps=float(rng.normal(0, 0.05)),
                force_rmse_eV_per_A=force,
                force_mae_eV_per_A=force * 0.7 if force else None,
                force_r2=1 - (force or 0) ** 2 if force is not None else None,
                force_angle_error_deg=40 * (force or 0) if force is not None else None,
                energy_rmse_meV_per_atom=10 * (force or 0) if force is not None else None,
                inference_ms_per_step=float(inf_ms * rng.uniform(0.9, 1.1)),
                step_ms=float(inf_ms * 1.1),
                device_name="Intel(R) Xeon(R) CPU",
            )
        for i, status in enumerate(["running", "running", "queued"]):
            _run(
                s,
                model=specs[i],
                structure="alanine-dipeptide",
                temperature_K=300.0,
                timestep_fs=0.5,
                duration_ps=10.0,
                status=status,
                progress=0.3 * (i + 1),
                done_steps=6000 * (i + 1),
                total_steps=20_000,
                started_at=now,
                eta_at=now + timedelta(minutes=12 * (i + 1)),
                heartbeat_at=now,
            )
        s.flush()
        for spec, rec in RECOMMENDATIONS.items():
            m = catalog.get_potential(s, key=spec)
            assert m is not None
            for suite in ("", "m6-full", "m6-quick"):
                s.add(
                    Recommendation(
                        model_id=m.id,
                        suite=suite,
                        recommendation=rec,
                        evidence=[f"rule: {rec} (synthetic data)"],
                        n_runs=n_runs // 4,
                    )
                )
        s.commit()


@dataclass
class LongRun:
    run_id: int
    teacher_id: int
    n_thermo: int


def _write_trajectory(
    path: Path, symbols: list[str], frames: list[np.ndarray], dt_frame_ps: float
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for k, pos in enumerate(frames):
        out.append(
            f"{len(symbols)}\nProperties=species:S:1:pos:R:3 step={k * 100} "
            f'time_ps={k * dt_frame_ps:.6f} pbc="F F F"'
        )
        out.extend(
            f"{s} {x:.6f} {y:.6f} {z:.6f}" for s, (x, y, z) in zip(symbols, pos, strict=True)
        )
    path.write_text("\n".join(out) + "\n")


def thermo_rows(
    run_id: int,
    n: int,
    *,
    start_seq: int = 0,
    dt_ps: float = 0.005,
    rng: np.random.Generator | None = None,
) -> list[tuple[Any, ...]]:
    """``n`` production thermo rows of alanine dipeptide at ~300 K (E_tot ≈ −897 eV)."""
    rng = rng or np.random.default_rng(start_seq)
    rows = []
    for k in range(start_seq, start_seq + n):
        t = k * dt_ps
        ekin = 0.8 + 0.15 * math.sin(t * 40) + 0.02 * rng.normal()
        etot = -897.3 + 2e-5 * t + 1e-4 * rng.normal()
        rows.append(
            (
                run_id,
                k,
                "production",
                k * 10,
                t,
                etot - ekin,
                ekin,
                etot,
                300 * ekin / 0.8,
                2.0 + rng.random(),
                3.0 + rng.random(),
                None,
            )
        )
    return rows


def populate_long_run(engine: Engine, artifacts: Path, *, duration_ps: float = 50.0) -> LongRun:
    """The 50 ps run (0.5 fs, every 10 steps) of zoo:original and its gfn2-xtb teacher run."""
    symbols, pos0, _ = read_xyz(STRUCTURES["alanine-dipeptide"])
    rng = np.random.default_rng(1)
    n_thermo = round(duration_ps * 1000 / 0.5 / 10)
    ids = []
    for model, ref in (("zoo:original", "gfn2-xtb"), ("gfn2-xtb", None)):
        with Session(engine) as s:
            run = _run(
                s,
                model=model,
                structure="alanine-dipeptide",
                temperature_K=300.0,
                timestep_fs=0.5,
                duration_ps=duration_ps,
                reference_spec=ref,
                seed=7,
                suite="m6-full",
                status="completed",
                finished_at=utcnow(),
                progress=1.0,
                total_steps=n_thermo * 10,
                verdict="pass",
                drift_percent=0.4,
                force_rmse_eV_per_A=0.11 if ref else None,
                inference_ms_per_step=8.8,
                device_name="Intel(R) Xeon(R) CPU",
            )
            s.flush()
            ids.append(run.id)
            series.insert_thermo(s, rows=thermo_rows(run.id, n_thermo, rng=rng))
            if ref:
                fe = [
                    (
                        run.id,
                        k,
                        k * 100,
                        k * 0.05,
                        0.11,
                        0.01,
                        list(np.abs(rng.normal(0.1, 0.05, len(symbols)))),
                    )
                    for k in range(n_thermo // 10)
                ]
                series.insert_force_errors(s, rows=fe)
            s.commit()
        noise = 0.002 if ref else 0.0015
        frames = [
            pos0 + rng.normal(0, noise * math.sqrt(k + 1), pos0.shape)
            for k in range(n_thermo // 10)
        ]
        _write_trajectory(
            artifacts / "runs" / str(ids[-1]) / "attempt-1" / "trajectory.extxyz",
            symbols,
            frames,
            0.05,
        )
    return LongRun(run_id=ids[0], teacher_id=ids[1], n_thermo=n_thermo)


def make_running_run(engine: Engine) -> int:
    """A run in state ``running`` with no records yet (the latency benchmark writes them)."""
    with Session(engine) as s:
        run = _run(
            s,
            model="zoo:tiny",
            structure="alanine-dipeptide",
            temperature_K=300.0,
            timestep_fs=0.5,
            duration_ps=50.0,
            reference_spec="gfn2-xtb",
            status="running",
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            total_steps=100_000,
            progress=0.0,
        )
        s.commit()
        return run.id


@dataclass
class ObservablesCase:
    """A cell with replicas of a student and its teacher, each with a core-shaped summary:
    the student's seed-0 run has observables vs its control, a valid control and warnings;
    two of its four replicas crashed (at 1.2 and 3.4 ps of 5 ps production)."""

    student: str
    teacher: str
    structure: str
    run_id: int  # the student's seed-0 run (completed, paired with the teacher's)
    teacher_run_id: int
    crashed_ids: list[int]
    no_control_id: int  # a completed run whose summary has no control (observables None)


#: Observables of the student's run against the teacher's control, and the control's noise
#: (first half vs second half), keys as mdval/controls/compare.py writes them.
STUDENT_OBSERVABLES: dict[str, Any] = {
    "rdf_w1_A": 0.0312,
    "bond_length_w1_A": 0.00481,
    "bond_length_w1_A_by_type": {"C-C": 0.00322, "C-H": 0.00481, "C-N": 0.00297},
    "bond_angle_w1_deg": 1.87,
    "bond_angle_w1_deg_by_type": {"C-C-N": 1.87, "H-C-H": 1.12},
    "dihedral_js": 0.142,
    "vdos_w1_THz": 2.36,
    "n_frames_model": 2500,
    "n_frames_control": 2500,
    "noise": {
        "rdf_w1_A": 0.0127,
        "bond_length_w1_A": 0.00133,
        "bond_length_w1_A_by_type": {"C-C": 0.00101, "C-H": 0.00133, "C-N": 0.00092},
        "bond_angle_w1_deg": 0.61,
        "bond_angle_w1_deg_by_type": {"C-C-N": 0.61, "H-C-H": 0.44},
        "dihedral_js": 0.058,
        "vdos_w1_THz": 0.91,
        "n_frames_model": 1250,
        "n_frames_control": 1250,
    },
}
STUDENT_WARNINGS = [
    "temperature 271 K is 9.7 % below the requested 300 K (NVE after 1 ps of NVT; the "
    "mean settles where the equilibration left it)",
    "the reference failed on 2 of 51 sampled frames; force errors are over the other 49",
]


def _summary(
    run: Run,
    *,
    status: str,
    stable_ps: float,
    verdict: str,
    control: dict[str, Any],
    observables: dict[str, Any] | None,
    warnings: list[str],
) -> dict[str, Any]:
    """A run summary shaped as mdval/md/summary.py builds it."""
    crashed = status == "crashed"
    equilibration = run.equilibration_ps or 0.0
    return {
        "status": status,
        "time_to_failure_ps": equilibration + stable_ps if crashed else None,
        "failure_reason": "bond collapse: max |Δb| 0.62 Å > 0.5 Å" if crashed else None,
        "failure_phase": "production" if crashed else None,
        "stopped_at_ps": equilibration + stable_ps,
        "warnings": warnings,
        "metrics": {
            "crashed": crashed,
            "stable_duration_ps": stable_ps,
            "duration_cap_ps": run.duration_ps,
            "drift_percent": run.drift_percent,
            "drift_meV_per_atom_per_ps": run.drift_meV_per_atom_per_ps,
            "drift_resolved": True,
            "force_rmse_eV_per_A": run.force_rmse_eV_per_A,
            "inference_ms_per_step": run.inference_ms_per_step,
            "temperature_mean_K": 271.0,
        },
        "criteria": [
            {
                "name": "energy_drift",
                "metric": "drift_percent",
                "value": run.drift_percent,
                "target": 1.0,
                "acceptable": 5.0,
                "level": "target",
                "unit": "%",
                "comparison": "le",
                "category": "energy",
                "device": None,
                "note": None,
            },
            {
                "name": "stable_duration",
                "metric": "stable_duration_ps",
                "value": stable_ps,
                "target": 5.0,
                "acceptable": 2.0,
                "level": "target" if not crashed else "fail",
                "unit": "ps",
                "comparison": "ge",
                "category": "duration",
                "device": None,
                "note": None,
            },
        ],
        "verdict": verdict,
        "verdict_without_control": verdict,
        "control": control,
        "observables": observables,
        "recommendation": {"recommendation": "production with caveats", "evidence": []},
        "config": dict(run.config),
        "provenance": {"device": "cpu", "batch_size": 1},
    }


def populate_observables(engine: Engine) -> ObservablesCase:
    """zoo:tiny and its teacher gfn2-xtb on alanine dipeptide, 300 K, 1 fs, 5 ps NVE after
    1 ps NVT: four student replicas (two crashed), three teacher replicas (its own control),
    plus one student run on H2O whose summary has no control."""
    student, teacher, structure = "zoo:tiny", "gfn2-xtb", "alanine-dipeptide"
    cell = {"temperature_K": 300.0, "timestep_fs": 1.0, "duration_ps": 5.0}
    control_key = "c0ntr01" + "9f3a" * 14
    valid_control = {
        "expected": True,
        "valid": True,
        "key": control_key,
        "is_self": False,
        "location": f"controls/{control_key}",
        "status": "completed",
        "time_to_failure_ps": None,
        "evidence": ["the control passes energy_drift, stable_duration"],
        "metrics": {
            "drift_percent": 0.21,
            "drift_resolved": True,
            "max_deviation_percent": 0.8,
            "fluctuation_ratio": 0.05,
            "temperature_mean_K": 268.0,
            "stable_duration_ps": 5.0,
            "crashed": False,
        },
    }
    self_control = {**valid_control, "is_self": True, "location": None}
    teacher_noise = dict(STUDENT_OBSERVABLES["noise"])
    teacher_observables = {
        **{k: (0.0 if isinstance(v, float) else v) for k, v in teacher_noise.items()},
        "noise": teacher_noise,
    }
    ids: dict[str, Any] = {"crashed": []}
    now = utcnow()
    with Session(engine) as s:
        plan = [
            (student, 0, "completed", 5.0, valid_control, STUDENT_OBSERVABLES, STUDENT_WARNINGS),
            (student, 1, "crashed", 1.2, valid_control, None, []),
            (student, 2, "crashed", 3.4, valid_control, None, []),
            (student, 3, "completed", 5.0, valid_control, None, []),
            (teacher, 0, "completed", 5.0, self_control, teacher_observables, []),
            (teacher, 1, "completed", 5.0, self_control, teacher_observables, []),
            (teacher, 2, "completed", 5.0, self_control, teacher_observables, []),
        ]
        for k, (model, seed, status, stable, control, observables, warnings) in enumerate(plan):
            finished = now - timedelta(minutes=30 - k)
            run = _run(
                s,
                model=model,
                structure=structure,
                reference_spec=None if model == teacher else teacher,
                seed=seed,
                equilibration_ps=1.0,
                suite="m6-quick",
                status=status,
                created_at=finished - timedelta(minutes=5),
                started_at=finished - timedelta(minutes=4),
                finished_at=finished,
                progress=1.0 if status == "completed" else 0.5,
                total_steps=6000,
                done_steps=6000 if status == "completed" else int(1000 * (1 + stable)),
                verdict="pass" if status == "completed" else "fail",
                failure_reason="bond collapse: max |Δb| 0.62 Å > 0.5 Å"
                if status == "crashed"
                else None,
                time_to_failure_ps=1.0 + stable if status == "crashed" else None,
                drift_percent=0.35,
                drift_meV_per_atom_per_ps=0.02,
                force_rmse_eV_per_A=0.21 if model == student else None,
                inference_ms_per_step=4.0 if model == student else 60.0,
                device_name="Intel(R) Xeon(R) CPU",
                **cell,
            )
            s.flush()
            run.summary = _summary(
                run,
                status=status,
                stable_ps=stable,
                verdict=run.verdict or "pass",
                control=control,
                observables=observables,
                warnings=warnings,
            )
            if model == student and seed == 0:
                ids["run"] = run.id
            if model == teacher and seed == 0:
                ids["teacher"] = run.id
            if status == "crashed":
                ids["crashed"].append(run.id)
        lone = _run(
            s,
            model=student,
            structure="H2O",
            reference_spec=teacher,
            status="completed",
            finished_at=now,
            progress=1.0,
            verdict="inconclusive",
            drift_percent=0.5,
            **cell,
        )
        s.flush()
        lone.summary = _summary(
            lone,
            status="completed",
            stable_ps=5.0,
            verdict="inconclusive",
            control={
                "expected": True,
                "valid": None,
                "evidence": [
                    "no control run: energy criteria cannot tell the model from the protocol"
                ],
            },
            observables=None,
            warnings=[],
        )
        s.commit()
        return ObservablesCase(
            student=student,
            teacher=teacher,
            structure=structure,
            run_id=ids["run"],
            teacher_run_id=ids["teacher"],
            crashed_ids=ids["crashed"],
            no_control_id=lone.id,
        )
