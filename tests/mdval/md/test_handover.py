"""The NVT -> NVE hand-over: the momentum scale that starts NVE at the canonical energy."""

from __future__ import annotations

import math

import pytest

from mdval.md.handover import handover_scale
from mdval.md.listener import ThermoRecord
from mdval.units import KB_EV_PER_K


def record(phase: str, step: int, epot: float, ekin: float = 0.5) -> ThermoRecord:
    return ThermoRecord(
        phase=phase,
        step=step,
        time_ps=0.001 * step,
        epot_eV=epot,
        ekin_eV=ekin,
        etot_eV=epot + ekin,
        temperature_K=300.0,
        max_force_eV_per_A=1.0,
        inference_ms=1.0,
    )


def canonical_ekin(n_dof: int, temperature_K: float) -> float:
    return 0.5 * n_dof * KB_EV_PER_K * temperature_K


# Equilibration E_pot: the first half far off (settling), the second half mean -10.0 eV.
EQUILIBRATION = [
    record("equilibration", k, epot)
    for k, epot in enumerate([-5.0, -6.0, -7.0, -8.0, -10.2, -9.8, -10.1, -9.9])
]
SECOND_HALF_MEAN = -10.0


@pytest.mark.parametrize(("epot", "ekin"), [(-10.3, 0.4), (-9.9, 0.9), (-10.0, 0.05)])
def test_scaled_state_has_the_canonical_mean_total_energy(epot: float, ekin: float) -> None:
    n_dof, temperature = 21, 300.0
    f = handover_scale(
        EQUILIBRATION, epot_eV=epot, ekin_eV=ekin, n_dof=n_dof, temperature_K=temperature
    )
    assert f > 0.0
    target = SECOND_HALF_MEAN + canonical_ekin(n_dof, temperature)
    assert f * f * ekin + epot == pytest.approx(target, rel=1e-12)


def test_state_already_at_the_canonical_energy_is_not_scaled() -> None:
    n_dof, temperature = 21, 300.0
    ekin = canonical_ekin(n_dof, temperature)
    f = handover_scale(
        EQUILIBRATION,
        epot_eV=SECOND_HALF_MEAN,
        ekin_eV=ekin,
        n_dof=n_dof,
        temperature_K=temperature,
    )
    assert f == pytest.approx(1.0, rel=1e-12)


def test_only_the_second_half_of_the_equilibration_records_counts() -> None:
    # Odd count: the second half starts at index len // 2 (here 4 of 9: the last 5 records).
    epots = [100.0, 100.0, 100.0, 100.0, -1.0, -2.0, -3.0, -4.0, -5.0]
    records = [record("equilibration", k, e) for k, e in enumerate(epots)]
    n_dof, temperature, epot, ekin = 9, 500.0, -3.5, 0.2
    f = handover_scale(records, epot_eV=epot, ekin_eV=ekin, n_dof=n_dof, temperature_K=temperature)
    target = -3.0 + canonical_ekin(n_dof, temperature)
    assert f * f * ekin + epot == pytest.approx(target, rel=1e-12)


def test_only_equilibration_records_count() -> None:
    others = [
        record("production", 0, 500.0),
        record("minimisation", 0, -500.0),
        *EQUILIBRATION[:4],
        record("production", 1, 1_000.0),
        *EQUILIBRATION[4:],
        record("production", 2, -1_000.0),
    ]
    n_dof, temperature, epot, ekin = 21, 300.0, -10.3, 0.4
    mixed = handover_scale(
        others, epot_eV=epot, ekin_eV=ekin, n_dof=n_dof, temperature_K=temperature
    )
    clean = handover_scale(
        EQUILIBRATION, epot_eV=epot, ekin_eV=ekin, n_dof=n_dof, temperature_K=temperature
    )
    assert mixed == clean


def test_fallback_to_the_canonical_mean_kinetic_energy() -> None:
    # E_pot far above its NVT mean: the target kinetic energy would be negative.
    n_dof, temperature, ekin = 21, 300.0, 0.4
    epot = SECOND_HALF_MEAN + canonical_ekin(n_dof, temperature) + 1.0
    f = handover_scale(
        EQUILIBRATION, epot_eV=epot, ekin_eV=ekin, n_dof=n_dof, temperature_K=temperature
    )
    assert f * f * ekin == pytest.approx(canonical_ekin(n_dof, temperature), rel=1e-12)
    # The boundary (target exactly zero) falls back too, rather than stopping the atoms.
    epot = SECOND_HALF_MEAN + canonical_ekin(n_dof, temperature)
    f = handover_scale(
        EQUILIBRATION, epot_eV=epot, ekin_eV=ekin, n_dof=n_dof, temperature_K=temperature
    )
    assert f > 0.0


def test_no_equilibration_records_means_no_scaling() -> None:
    kwargs = {"epot_eV": -3.0, "ekin_eV": 0.4, "n_dof": 21, "temperature_K": 300.0}
    assert handover_scale([], **kwargs) == 1.0  # type: ignore[arg-type]
    assert handover_scale([record("production", 0, -9.0)], **kwargs) == 1.0  # type: ignore[arg-type]


@pytest.mark.parametrize("ekin", [0.0, -0.1, math.nan, math.inf])
def test_no_kinetic_energy_to_scale_means_no_scaling(ekin: float) -> None:
    f = handover_scale(EQUILIBRATION, epot_eV=-10.0, ekin_eV=ekin, n_dof=21, temperature_K=300.0)
    assert f == 1.0
