"""Ensemble checks of NVT segments: is the kinetic energy canonically distributed?

Definitions follow METRICS.md ("Equilibrium observables", ``ke_distribution_p``). Energies are
in eV, temperatures in K.

In the canonical ensemble the kinetic energy of ``n_dof`` quadratic degrees of freedom is
gamma distributed with shape n_dof / 2 and scale k_B T (a chi-squared with n_dof degrees of
freedom, scaled by k_B T / 2). The check is physical-validation's strict kinetic-energy
distribution test (Merz & Shirts, PLoS ONE 13, e0202764 (2018)): a Kolmogorov-Smirnov test of
the samples against that gamma distribution.

Successive MD frames are correlated, and a KS test on correlated samples gives p-values that
are far too small. So, as physical-validation does by default, the series is first cut to its
equilibrated part and subsampled by its statistical inefficiency g (pymbar's
``detect_equilibration`` and ``subsample_correlated_data``); ``ke_n_independent`` reports how
many samples were left. g is estimated from the series itself and is an underestimate when
the series is short compared to its correlation time.
"""

from __future__ import annotations

import logging
from typing import Any, TypedDict

import numpy as np
from numpy.typing import ArrayLike

from mdval.units import KB_EV_PER_K

#: Fewest kinetic-energy samples for which the test is run (else the p-value is None).
KE_MIN_SAMPLES: int = 10

#: The keys of :func:`ke_distribution_p`.
ENSEMBLE_METRICS: tuple[str, ...] = (
    "ke_distribution_p",
    "ke_distribution_test",
    "ke_n_independent",
)


class KEDistribution(TypedDict):
    """The result of :func:`ke_distribution_p` (keys as in METRICS.md)."""

    ke_distribution_p: float | None
    ke_distribution_test: str
    ke_n_independent: int


KE_TEST: str = (
    "physical_validation strict kinetic-energy distribution: Kolmogorov-Smirnov against "
    "gamma(n_dof/2, k_B T)"
)


def _physical_validation() -> tuple[Any, Any, type[Exception]]:
    """physical_validation's low-level modules, imported on first use.

    The import pulls pymbar, which logs a timeseries caveat and a "JAX NOT FOUND" banner on
    import; both are silenced here (the caveat is documented in this module).
    """
    logger = logging.getLogger("pymbar")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from physical_validation.util import kinetic_energy, trajectory
        from pymbar.utils import ParameterError
    finally:
        logger.setLevel(level)
    return kinetic_energy, trajectory, ParameterError


def ke_distribution_p(
    ekin_eV: ArrayLike,
    n_dof: float,
    temperature_K: float,
    *,
    data_is_uncorrelated: bool = False,
) -> KEDistribution:
    """p-value of sampled kinetic energies against the canonical distribution at ``temperature_K``.

    Parameters
    ----------
    ekin_eV
        (R,) kinetic energies in eV of an NVT segment, in time order.
    n_dof
        Degrees of freedom of the kinetic energy (3N - 3 with the centre of mass fixed; see
        :func:`mdval.metrics.energy.degrees_of_freedom`).
    temperature_K
        The thermostat's target temperature in K.
    data_is_uncorrelated
        Skip the equilibration cut and the decorrelation (only for samples known to be
        independent).

    Returns
    -------
    KEDistribution
        ``ke_distribution_p`` (KS p-value in [0, 1]; None with fewer than
        :data:`KE_MIN_SAMPLES` samples), ``ke_distribution_test`` (what was tested) and
        ``ke_n_independent`` (samples that entered the test). A small p rejects the canonical
        distribution at that temperature (wrong temperature, or a thermostat that gets the
        mean right but the fluctuations wrong).
    """
    ekin = np.asarray(ekin_eV, dtype=np.float64)
    if ekin.ndim != 1:
        raise ValueError(f"ekin_eV must be one-dimensional, got shape {ekin.shape}")
    if not np.all(np.isfinite(ekin)):
        raise ValueError("ekin_eV has non-finite values")
    if not n_dof > 0:
        raise ValueError(f"n_dof must be positive, got {n_dof}")
    if not temperature_K > 0:
        raise ValueError(f"temperature_K must be positive, got {temperature_K}")

    out: KEDistribution = {
        "ke_distribution_p": None,
        "ke_distribution_test": KE_TEST,
        "ke_n_independent": int(ekin.size),
    }
    if ekin.size < KE_MIN_SAMPLES:
        return out
    kinetic_energy, trajectory, parameter_error = _physical_validation()
    samples = ekin
    if not data_is_uncorrelated:
        try:
            samples = np.asarray(trajectory.prepare(ekin, verbosity=0), dtype=np.float64)
        except parameter_error:  # zero variance: g is undefined, test every sample
            samples = ekin
    p = kinetic_energy.check_distribution(
        kin=samples,
        temp=float(temperature_K),
        ndof=float(n_dof),
        kb=KB_EV_PER_K,
        verbosity=0,
        screen=False,
        filename=None,
        ene_unit=None,
        temp_unit=None,
        data_is_uncorrelated=True,
    )
    out["ke_distribution_p"] = float(p)
    out["ke_n_independent"] = int(samples.size)
    return out
