"""The torch engine: ASE equivalence, batching, per-replica failures, the engine interface."""

from __future__ import annotations

import functools
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import molecule
from ase.optimize import BFGS
from typer.testing import CliRunner

from mdval.errors import InputError, RunCancelled
from mdval.md.config import RunConfig
from mdval.md.engine import PhaseSpec, make_engine
from mdval.md.listener import RunListener, ThermoRecord
from mdval.md.protocol import PreparedRun, RunResult, run_validation
from mdval.md.snapshot import Snapshot
from mdval.md.torch_engine import INTEGRATORS, MDState, run_batch, state_from_atoms
from mdval.md.torch_engine.adapter import TorchEngine
from mdval.md.torch_engine.integrators import remove_com_momentum
from mdval.md.torch_engine.model import ForceModel
from mdval.md.velocities import degrees_of_freedom, initialize_velocities
from mdval.potentials.registry import resolve_potential
from mdval.potentials.testing import MorsePairPotential, export_test_potential, morse_calculator
from mdval.structures import load_structure


@pytest.fixture(scope="module")
def morse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_test_potential(tmp_path_factory.mktemp("ts") / "morse.pt")


@functools.cache
def _relaxed(name: str) -> Atoms:
    """``name`` at a minimum of the Morse test potential (so that MD at 300 K is calm)."""
    atoms = molecule(name) if name in ("H2O", "CH4", "CH3OH") else load_structure(name)
    atoms.rattle(0.05, seed=1)  # off the symmetric saddle points of this crude potential
    atoms.calc = morse_calculator()
    BFGS(atoms, logfile=None).run(fmax=1e-3, steps=1000)
    atoms.calc = None
    return atoms


def relaxed(name: str) -> Atoms:
    return _relaxed(name).copy()


@pytest.fixture(scope="module")
def dipeptide() -> Atoms:
    return relaxed("alanine-dipeptide")


class NaNBeyond(torch.nn.Module):
    """Morse, but the energy of a system with any atom at x > ``x_max`` Å is NaN."""

    def __init__(self, x_max: float) -> None:
        super().__init__()
        self.inner = MorsePairPotential()
        self.x_max = x_max

    def forward(
        self, positions: torch.Tensor, numbers: torch.Tensor, index: torch.Tensor, n: int
    ) -> torch.Tensor:
        energies = self.inner(positions, numbers, index, n)
        beyond = (positions[:, 0] > self.x_max).to(positions.dtype)
        count = torch.zeros(n, dtype=positions.dtype).index_add(0, index, beyond.detach())
        return energies + torch.sqrt(-count)  # NaN where count > 0, + 0 elsewhere


class RaiseBeyond(NaNBeyond):
    """Morse, but the call raises when any atom of any system is at x > ``x_max`` Å."""

    def forward(
        self, positions: torch.Tensor, numbers: torch.Tensor, index: torch.Tensor, n: int
    ) -> torch.Tensor:
        if bool((positions[:, 0] > self.x_max).any()):
            raise RuntimeError("atom out of the training domain")
        return self.inner(positions, numbers, index, n)


#: Where the NaN/raise potentials break: the rightmost H of ``_water(0.0)`` at rest + 0.05 Å.
X_MAX = 0.05


def _water(shift_x: float) -> Atoms:
    """Relaxed H2O, its first O-H bond along +x with that H at x = 0, compressed by 0.1 Å:
    at 0 K the H swings out to about +0.1 Å, past :data:`X_MAX`, within a few fs."""
    atoms = relaxed("H2O")
    atoms.rotate(atoms.positions[1] - atoms.positions[0], "x", center=atoms.positions[0])
    atoms.translate(-atoms.positions[1])
    atoms.positions[1, 0] -= 0.1
    atoms.positions[:, 0] += shift_x
    return atoms


# --- equivalence with the ASE engine --------------------------------------------------------


def test_nve_matches_ase_engine_within_1e_8_over_100_steps(
    morse_file: Path, dipeptide: Atoms
) -> None:
    entry = resolve_potential(str(morse_file))
    start = dipeptide.copy()
    initialize_velocities(start, 300.0, np.random.default_rng(3))
    end = {}
    for name in ("ase", "torch"):
        atoms = start.copy()
        engine = make_engine(name, entry, "cpu")
        timing = engine.run_phase(
            atoms,
            PhaseSpec("production", 100, 0.5),
            [],
            n_dof=degrees_of_freedom(atoms),
            rng=np.random.default_rng(0),
        )
        assert timing.steps_done == 100 and len(timing.step_s) == 100
        assert len(timing.inference_s) == 101  # initial forces + one call per step
        end[name] = atoms
    assert isinstance(make_engine("torch", entry, "cpu"), TorchEngine)
    moved = np.abs(end["torch"].positions - start.positions).max()
    assert moved > 0.01  # it really moved
    assert np.abs(end["torch"].positions - end["ase"].positions).max() < 1e-8
    assert np.abs(end["torch"].get_momenta() - end["ase"].get_momenta()).max() < 1e-8


def _run(
    config: RunConfig,
    atoms: Atoms,
    model: str,
    engine: str,
    listener: RunListener | None = None,
) -> RunResult:
    cfg = config.model_copy(update={"engine": engine})
    prepared = PreparedRun(cfg, atoms, resolve_potential(model), None, "cpu")
    return run_validation(cfg, prepared=prepared, listener=listener)


def test_run_validation_gives_the_same_thermo_with_both_engines(
    morse_file: Path, dipeptide: Atoms
) -> None:
    config = RunConfig(
        equilibration_ps=0.0,
        model=str(morse_file),
        structure="alanine-dipeptide",
        duration_ps=0.05,
        timestep_fs=0.5,
        record_every=5,
        seed=11,
        device="cpu",
    )
    a = _run(config, dipeptide, str(morse_file), "ase")
    t = _run(config, dipeptide, str(morse_file), "torch")
    assert a.status == t.status == "completed"
    rows_a = [(r.step, r.epot_eV, r.ekin_eV, r.max_force_eV_per_A) for r in a.thermo]
    rows_t = [(r.step, r.epot_eV, r.ekin_eV, r.max_force_eV_per_A) for r in t.thermo]
    assert len(rows_a) == len(rows_t) == 21
    np.testing.assert_allclose(np.array(rows_t), np.array(rows_a), rtol=0, atol=1e-9)
    metrics = t.summary["metrics"]
    assert metrics["inference_ms_per_step"] > 0 and metrics["step_ms"] > 0


def test_equilibration_then_production_with_the_torch_engine(
    morse_file: Path, dipeptide: Atoms
) -> None:
    config = RunConfig(
        model=str(morse_file),
        structure="alanine-dipeptide",
        duration_ps=0.01,
        equilibration_ps=0.01,
        timestep_fs=0.5,
        record_every=5,
        device="cpu",
    )
    result = _run(config, dipeptide, str(morse_file), "torch")
    phases = [r.phase for r in result.thermo]
    assert phases.count("equilibration") == 5 and phases.count("production") == 5
    assert result.status == "completed"
    # production's first record reuses the forces of equilibration's last call, and its
    # time (it was NaN: SQLite stores NaN as NULL and the standalone lost every NVE row)
    assert all(np.isfinite(r.inference_ms) and r.inference_ms > 0 for r in result.thermo)


def test_auto_picks_torch_for_torch_potentials_and_torch_refuses_others(
    morse_file: Path,
) -> None:
    assert make_engine("auto", resolve_potential(str(morse_file)), "cpu").name == "torch"
    assert make_engine("auto", resolve_potential("emt"), "cpu").name == "ase"
    with pytest.raises(InputError, match="needs a torch potential"):
        make_engine("torch", resolve_potential("emt"), "cpu")


def test_cli_engine_torch(morse_file: Path, tmp_path: Path) -> None:
    from mdval.cli.main import app

    common = ["--structure", "H2O", "--duration-ps", "0.005", "--timestep-fs", "0.5"]
    ok = CliRunner().invoke(
        app,
        ["run", "--model", str(morse_file), "--engine", "torch", "-o", str(tmp_path), *common],
    )
    assert ok.exit_code in (0, 1, 3), ok.output
    assert (tmp_path / "summary.json").is_file()
    bad = CliRunner().invoke(app, ["run", "--model", "lj", "--engine", "torch", *common])
    assert bad.exit_code == 2
    assert "needs a torch potential" in bad.output


def test_a_raising_potential_crashes_the_run_at_the_failing_step(
    morse_file: Path, tmp_path: Path
) -> None:
    path = tmp_path / "raise.pt"
    with warnings.catch_warnings():  # torch >= 2.10 deprecates TorchScript; mdval uses it
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(RaiseBeyond(X_MAX)).save(str(path))
    config = RunConfig(
        equilibration_ps=0.0,
        model=str(path),
        structure="w",
        duration_ps=0.05,
        timestep_fs=0.5,
        device="cpu",
    )
    # the water swings an H past x = X_MAX within a few steps
    cfg = config.model_copy(update={"engine": "torch", "temperature_K": 1.0})
    entry = replace(resolve_potential(str(morse_file)), torchscript_path=path)
    prepared = PreparedRun(cfg, _water(0.0), entry, None, "cpu")
    result = run_validation(cfg, prepared=prepared)
    assert result.status == "crashed"
    reason = result.summary["failure_reason"]
    assert reason.startswith("the potential raised RuntimeError")
    assert 0 < result.summary["time_to_failure_ps"] < 0.05


def test_cancel_stops_the_torch_engine(morse_file: Path) -> None:
    class CancelAt20(RunListener):
        def __init__(self) -> None:
            self.done = 0

        def on_progress(self, done_steps: int, total_steps: int) -> None:
            self.done = done_steps

        def should_cancel(self) -> bool:
            return self.done >= 20

    config = RunConfig(
        equilibration_ps=0.0,
        model=str(morse_file),
        structure="H2O",
        duration_ps=0.05,
        timestep_fs=0.5,
        device="cpu",
    )
    result = _run(config, relaxed("H2O"), str(morse_file), "torch", listener=CancelAt20())
    assert result.status == "cancelled"


# --- batches --------------------------------------------------------------------------------


def _three(dipeptide: Atoms) -> list[tuple[Atoms, float, int]]:
    return [(relaxed("H2O"), 300.0, 1), (relaxed("CH4"), 500.0, 2), (dipeptide, 200.0, 3)]


def test_batch_of_three_equals_three_separate_runs(morse_file: Path, dipeptide: Atoms) -> None:
    kw: dict[str, Any] = dict(
        n_steps=40, timestep_fs=0.5, record_every=10, n_equilibration_steps=20
    )
    batch = run_batch(str(morse_file), _three(dipeptide), **kw)
    assert [r.status for r in batch.replicas] == ["completed"] * 3
    assert batch.n_atoms == 3 + 5 + 22
    for k, system in enumerate(_three(dipeptide)):
        alone = run_batch(str(morse_file), [system], **kw).replicas[0]
        together = batch.replicas[k]
        np.testing.assert_allclose(together.atoms.positions, alone.atoms.positions, atol=1e-10)
        np.testing.assert_allclose(
            together.atoms.get_momenta(), alone.atoms.get_momenta(), atol=1e-10
        )
        assert len(together.records) == len(alone.records) == 3 + 5  # eq: 0,10,20; prod: 0..40
        for a, b in zip(together.records, alone.records, strict=True):
            assert (a.phase, a.step) == (b.phase, b.step)
            assert a.etot_eV == pytest.approx(b.etot_eV, abs=1e-9)


def test_batched_nve_replica_equals_the_ase_engine_run(morse_file: Path, dipeptide: Atoms) -> None:
    """Replica k of a batch is the single run_validation run with the same inputs."""
    batch = run_batch(str(morse_file), _three(dipeptide), n_steps=100, timestep_fs=0.5)
    config = RunConfig(
        equilibration_ps=0.0,
        model=str(morse_file),
        structure="x",
        duration_ps=0.05,
        timestep_fs=0.5,
        device="cpu",
    )
    for k, (atoms, temperature, seed) in enumerate(_three(dipeptide)):
        cfg = config.model_copy(update={"temperature_K": temperature, "seed": seed})
        single = _run(cfg, atoms, str(morse_file), "ase")
        last = single.thermo[-1]
        mine = batch.replicas[k].records[-1]
        assert (mine.step, mine.phase) == (last.step, last.phase) == (100, "production")
        assert mine.epot_eV == pytest.approx(last.epot_eV, abs=1e-8)
        assert mine.ekin_eV == pytest.approx(last.ekin_eV, abs=1e-8)


def test_a_nan_replica_crashes_alone() -> None:
    systems = [
        (_water(-10.0), 0.0, 0),  # same push, far from the NaN region
        (_water(0.0), 0.0, 0),  # its H crosses x = X_MAX: NaN energy
        (relaxed("CH4"), 300.0, 5),
    ]
    systems[2][0].positions[:, 0] -= 20.0
    result = run_batch(NaNBeyond(X_MAX), systems, n_steps=60, timestep_fs=0.5, record_every=5)
    status = [r.status for r in result.replicas]
    assert status == ["completed", "crashed", "completed"]
    bad = result.replicas[1]
    assert bad.reason is not None and bad.reason.startswith("non-finite energy")
    assert bad.time_to_failure_ps is not None and 0 < bad.time_to_failure_ps < 0.03
    assert bad.records[-1].step < bad.steps_done  # the failing record is not kept
    for good in (result.replicas[0], result.replicas[2]):
        assert good.records[-1].step == 60 and len(good.records) == 13
        assert np.isfinite([r.etot_eV for r in good.records]).all()
    # the survivor behaves exactly as it would alone
    alone = run_batch(NaNBeyond(X_MAX), [systems[0]], n_steps=60, timestep_fs=0.5, record_every=5)
    np.testing.assert_allclose(
        result.replicas[0].atoms.positions, alone.replicas[0].atoms.positions, atol=1e-10
    )


def test_crash_time_does_not_depend_on_the_record_interval() -> None:
    """The failure check runs every step: the crash step is the same at record_every 1 and 7."""
    times = []
    for every in (1, 7):
        result = run_batch(
            NaNBeyond(X_MAX),
            [(_water(0.0), 0.0, 0)],
            n_steps=60,
            timestep_fs=0.5,
            record_every=every,
        )
        times.append(result.replicas[0].time_to_failure_ps)
    assert times[0] is not None and times[0] == times[1]


def test_a_crash_found_late_is_replayed_to_its_exact_step_in_nvt_and_in_a_batch() -> None:
    """The failure check sees only the steps where a record is due; a crash it finds there is
    replayed from the last good step (thermostat noise included), so the crash step equals
    that of a check at every step, alone or beside a healthy replica."""
    systems = [(_water(0.0), 300.0, 3), (_water(-10.0), 300.0, 4)]
    times = []
    for every in (1, 9):
        result = run_batch(
            NaNBeyond(X_MAX),
            systems,
            n_steps=30,
            timestep_fs=0.5,
            record_every=every,
            n_equilibration_steps=60,
        )
        bad, good = result.replicas
        assert bad.status == "crashed" and good.status == "completed"
        times.append((bad.phase, bad.time_to_failure_ps, bad.steps_done))
    assert times[0] == times[1]
    assert times[0][1] is not None and times[0][2] % 9 != 0  # not on a record step


class NaNThenRaise(NaNBeyond):
    """:class:`NaNBeyond` whose call also raises when an atom is past ``x_raise`` Å: a model
    that fails some steps after its crash (only for a batch holding the broken system)."""

    def __init__(self, x_max: float, x_raise: float) -> None:
        super().__init__(x_max)
        self.x_raise = x_raise

    def forward(
        self, positions: torch.Tensor, numbers: torch.Tensor, index: torch.Tensor, n: int
    ) -> torch.Tensor:
        if bool((positions[:, 0] > self.x_raise).any()):
            raise RuntimeError("the model broke after its NaN")
        return super().forward(positions, numbers, index, n)


def test_a_crash_is_reported_before_a_model_failure_that_follows_it_in_its_group() -> None:
    """Records are observed in groups: a model call that fails while the record showing an
    earlier crash waits in its group must not hide the crash (the group is observed first);
    the crash keeps its exact step, as with a potential that never raises. The H of
    ``_water(0.0)`` passes X_MAX at step 8 (NaN), is at 0.0862 Å at step 10 (a record:
    the check finds the NaN there) and 0.0880 Å at step 11, past 0.087 (the call raises)."""
    systems = [(_water(0.0), 0.0, 0), (_water(-10.0), 0.0, 0)]
    plain = run_batch(NaNBeyond(X_MAX), systems, n_steps=60, timestep_fs=0.5, record_every=5)
    raising = run_batch(
        NaNThenRaise(X_MAX, x_raise=0.087), systems, n_steps=60, timestep_fs=0.5, record_every=5
    )
    for result in (plain, raising):
        bad, good = result.replicas
        assert (bad.status, good.status) == ("crashed", "completed")
        assert bad.reason is not None and bad.reason.startswith("non-finite energy")
    assert raising.replicas[0].time_to_failure_ps == plain.replicas[0].time_to_failure_ps
    np.testing.assert_array_equal(
        raising.replicas[0].atoms.positions, plain.replicas[0].atoms.positions
    )
    assert [r.step for r in raising.replicas[1].records] == list(range(0, 61, 5))


def test_records_are_observed_in_order_and_never_more_than_max_defer_steps_late() -> None:
    """An observer sees every record, in order, at most MAX_DEFER_STEPS model calls after the
    record's step (grouped: some later than their own step), and all before the run returns;
    a record's ``inference_ms`` is the time of its own step's call, not of the newest."""
    from mdval.md.torch_engine.runner import MAX_DEFER_STEPS

    model = ForceModel(MorsePairPotential().double())
    seen: list[tuple[int, int, float]] = []

    class Late:
        interval = 5

        def __call__(self, snap: Snapshot) -> None:
            called = len(model.call_times_s) - 1  # calls after the initial one
            seen.append((snap.step, called, snap.inference_ms))

        def close(self) -> None:
            pass

    result = run_batch(model, [(relaxed("CH4"), 300.0, 0)], 230, 0.5, 5, observers=[[Late()]])
    steps = [step for step, _, _ in seen]
    assert steps == list(range(0, 231, 5))
    lateness = [called - step for step, called, _ in seen]
    assert max(lateness) <= MAX_DEFER_STEPS and max(lateness) > 0
    assert seen[-1][:2] == (230, 230)
    calls_ms = [1000.0 * t for t in result.timings["production"].inference_s]
    assert [ms for _, _, ms in seen] == [calls_ms[step] for step in steps]


def test_a_raising_replica_is_isolated_and_the_others_go_on() -> None:
    systems = [(_water(-10.0), 0.0, 0), (_water(0.0), 0.0, 0)]
    result = run_batch(RaiseBeyond(X_MAX), systems, n_steps=40, timestep_fs=0.5, record_every=5)
    ok, bad = result.replicas
    assert (ok.status, bad.status) == ("completed", "crashed")
    assert bad.reason is not None and "atom out of the training domain" in bad.reason
    assert ok.records[-1].step == 40


def test_langevin_baoab_thermalises_and_keeps_the_com_at_rest(morse_file: Path) -> None:
    """16 methanols start at 50 K; BAOAB at 300 K (friction 50/ps) brings them there.

    The thermostat acts on rotation too, so the kinetic temperature counts 3N - 3 degrees
    of freedom here (COM momentum removed, rotation not)."""
    systems = [(relaxed("CH3OH"), 50.0, seed) for seed in range(16)]
    # temperature of each replica is its thermostat target: set 300 K after the start
    from mdval.md.torch_engine.batch import prepare_replicas
    from mdval.md.torch_engine.runner import Thermostat, run_phase

    prepared, _, gens = prepare_replicas(systems)
    n_dof = [3 * len(a) - 3 for a in prepared]
    state = state_from_atoms(prepared)
    kept: list[float] = []

    class Temps:
        interval = 10

        def __call__(self, snap: Snapshot) -> None:
            if snap.step >= 400:  # after 0.2 ps = 10 / friction
                kept.append(snap.temperature_K)

        def close(self) -> None:
            pass

    outcome = run_phase(
        state,
        resolve_forces(morse_file),
        n_steps=2000,
        timestep_fs=0.5,
        phase="equilibration",
        observers=[[Temps()] for _ in systems],
        n_dof=n_dof,
        thermostat=Thermostat([300.0] * 16, 50.0, gens),
    )
    assert outcome.state is not None
    assert np.mean(kept) == pytest.approx(300.0, rel=0.1)
    com = _com_momenta(outcome.state)
    assert np.abs(com).max() < 1e-10


def resolve_forces(path: Path) -> ForceModel:
    return ForceModel.load(path)


def _com_momenta(state: MDState) -> np.ndarray:
    total = torch.zeros((state.n_systems, 3), dtype=state.dtype).index_add(
        0, state.system_index, state.momenta
    )
    return total.numpy()


def test_state_select_and_com_removal(dipeptide: Atoms) -> None:
    systems = [molecule("H2O"), molecule("CH4"), dipeptide]
    for k, atoms in enumerate(systems):
        atoms.set_momenta(np.random.default_rng(k).normal(size=(len(atoms), 3)))
    state = state_from_atoms(systems)
    assert state.counts == (3, 5, 22) and state.n_systems == 3
    sub = state.select([2, 0])
    assert sub.counts == (22, 3)
    assert sub.system_index.tolist() == [0] * 22 + [1] * 3
    np.testing.assert_array_equal(sub.positions[:22].numpy(), dipeptide.positions)
    still = remove_com_momentum(state, state.momenta)
    total = torch.zeros((3, 3), dtype=state.dtype).index_add(0, state.system_index, still)
    assert total.abs().max() < 1e-12
    assert set(INTEGRATORS) == {"nve", "nvt_langevin"}


def test_model_errors_are_input_errors_at_build_time() -> None:
    with pytest.raises(InputError, match="needs a torch potential"):
        run_batch("lj", [(molecule("H2O"), 300.0, 0)], n_steps=1, timestep_fs=0.5)


def test_cancel_in_batch_stops_only_that_replica(morse_file: Path) -> None:
    class Cancel:
        interval = 5

        def __call__(self, snap: Snapshot) -> None:
            if snap.step == 10:
                raise RunCancelled("stop")

        def close(self) -> None:
            pass

    systems = [(relaxed("H2O"), 300.0, 0), (relaxed("CH4"), 300.0, 1)]
    result = run_batch(
        str(morse_file), systems, n_steps=20, timestep_fs=0.5, observers=[[Cancel()], []]
    )
    assert [r.status for r in result.replicas] == ["cancelled", "completed"]
    assert result.replicas[0].steps_done == 10


def test_listeners_get_each_replicas_records_and_can_cancel_one(morse_file: Path) -> None:
    class Collect(RunListener):
        def __init__(self, stop_at: int | None = None) -> None:
            self.steps: list[int] = []
            self.stop_at = stop_at

        def on_thermo(self, record: ThermoRecord) -> None:
            self.steps.append(record.step)

        def should_cancel(self) -> bool:
            return self.stop_at is not None and self.steps[-1] >= self.stop_at

    listeners = [Collect(), Collect(stop_at=10)]
    systems = [(relaxed("H2O"), 300.0, 0), (relaxed("CH3OH"), 300.0, 1)]
    result = run_batch(
        str(morse_file), systems, n_steps=30, timestep_fs=0.5, record_every=5, listeners=listeners
    )
    assert [r.status for r in result.replicas] == ["completed", "cancelled"]
    assert listeners[0].steps == [0, 5, 10, 15, 20, 25, 30]
    assert listeners[1].steps == [0, 5, 10]


def test_the_hand_over_uses_the_energy_of_the_state_handed_over(
    morse_file: Path, dipeptide: Atoms
) -> None:
    """21 NVT steps with records every 10: the hand-over's E_pot is that of step 21, not of
    the last record, so NVE starts at ⟨E_pot⟩ (second half of the NVT records) + N_dof/2 k_B T."""
    from ase import units

    config = RunConfig(
        model=str(morse_file), structure="alanine-dipeptide", duration_ps=0.005,
        equilibration_ps=0.0105, timestep_fs=0.5, record_every=10, device="cpu",
    )  # fmt: skip
    result = _run(config, dipeptide, str(morse_file), "torch")
    nvt = [r for r in result.thermo if r.phase == "equilibration"]
    assert [r.step for r in nvt] == [0, 10, 20]
    first = next(r for r in result.thermo if r.phase == "production")
    n_dof = result.summary["metrics"]["n_dof"]
    target = np.mean([r.epot_eV for r in nvt[1:]]) + 0.5 * n_dof * units.kB * 300.0
    assert first.etot_eV == pytest.approx(target, abs=1e-9)


def test_a_moved_state_shares_its_batchs_host_constants_and_a_new_batch_does_not() -> None:
    """Offsets and host masses are copied once per batch (read-only): a step's new state
    keeps them, a state with other systems (``select``, ``replace``) computes its own."""
    from mdval.md.torch_engine.state import to_host

    state = state_from_atoms([molecule("H2O"), molecule("CH4")])
    offsets, masses = state.offsets(), state.host_masses()
    assert offsets.tolist() == [0, 3, 8] and not offsets.flags.writeable
    assert np.array_equal(masses, state.masses.numpy()) and not masses.flags.writeable
    moved = state.moved(state.positions + 1.0, state.momenta, state.positions, state.masses[:2])
    assert moved.offsets() is offsets and moved.host_masses() is masses
    frame = to_host(moved)
    assert np.array_equal(frame.positions, state.positions.numpy() + 1.0)
    assert frame.offsets is offsets and frame.masses is masses
    alone = state.select([1])
    assert alone.offsets().tolist() == [0, 5] and alone.host_masses().shape == (5,)
    heavier = replace(state, masses=state.masses * 2)
    assert np.array_equal(heavier.host_masses(), 2 * masses)
