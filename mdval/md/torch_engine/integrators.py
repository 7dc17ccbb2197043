"""Integrators as pure functions: ``init(state, model) -> state``, ``step(state, model, dt,
**params) -> state``. A step never changes its input; it returns a new state.

Time is in ASE units (``dt = timestep_fs * ase.units.fs``), so that the arithmetic is ASE's.

Velocity Verlet (NVE) — exactly ASE's ``VelocityVerlet.step`` order (``ase/md/verlet.py``)::

    p  <- p + (dt/2) F(r)
    r  <- r + dt p / m
    p  <- p + (dt/2) F(r)

Langevin BAOAB (NVT; Leimkuhler & Matthews, Appl. Math. Res. Express 2013) — one force call
per step::

    B  p <- p + (dt/2) F
    A  r <- r + (dt/2) p / m
    O  p <- c1 p + sqrt((1 - c1^2) m kB T) xi,   c1 = exp(-gamma dt),  xi ~ N(0, 1)
       p <- p - m P_s / M_s                      (per system: the noise must not move the COM)
    A  r <- r + (dt/2) p / m
    B  p <- p + (dt/2) F(r)

The O step solves the friction + noise part exactly, so any ``gamma dt`` is stable, and the
configurational error of BAOAB is O(dt^2) with a small constant. ASE's ``Langevin`` uses a
different splitting (Vanden-Eijnden & Ciccotti); NVT trajectories of the two engines agree
in distribution, not step by step. ``xi`` is drawn by the caller and passed in (``noise``),
which keeps the step pure and lets a batch reproduce separate runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import torch
from ase import units

from mdval.md.torch_engine.state import MDState


class EnergyForces(Protocol):
    def __call__(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


def cells(state: MDState) -> dict[str, torch.Tensor]:
    """The keywords of every model call: a periodic batch's cells and pbc (the model then
    takes them, ``neighbours.py``); none for a batch of molecules."""
    if state.cell is None or state.pbc is None:
        return {}
    return {"cell": state.cell, "pbc": state.pbc}


def evaluate(
    model: EnergyForces, state: MDState, positions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Energies and forces of ``state``'s batch at ``positions`` (one model call); a periodic
    batch also hands the model its cells and pbc (a periodic model's keywords)."""
    return model(
        positions, state.atomic_numbers, state.system_index, state.n_systems, **cells(state)
    )


def compute_forces(state: MDState, model: EnergyForces) -> MDState:
    """``state`` with energies and forces at its positions."""
    energies, forces = evaluate(model, state, state.positions)
    return replace(state, energies=energies, forces=forces)


def ensure_forces(state: MDState, model: EnergyForces, *_: Any, **__: Any) -> MDState:
    """The ``init`` of both integrators: forces at the current positions, if not known."""
    if state.forces is None or state.energies is None:
        return compute_forces(state, model)
    return state


def velocity_verlet_step(state: MDState, model: EnergyForces, dt: float, **_: Any) -> MDState:
    """One NVE step of length ``dt`` (ASE time units); ``state`` must carry forces."""
    assert state.forces is not None
    half = 0.5 * dt
    momenta = state.momenta + half * state.forces
    positions = state.positions + dt * momenta / state.masses.unsqueeze(1)
    energies, forces = evaluate(model, state, positions)
    return state.moved(positions, momenta + half * forces, forces, energies)


def remove_com_momentum(state: MDState, momenta: torch.Tensor) -> torch.Tensor:
    """``momenta`` less each system's centre-of-mass momentum (mass-weighted)."""
    idx = state.system_index
    n = state.n_systems
    total = torch.zeros((n, 3), dtype=momenta.dtype, device=momenta.device).index_add(
        0, idx, momenta
    )
    mass = torch.zeros(n, dtype=momenta.dtype, device=momenta.device).index_add(
        0, idx, state.masses
    )
    return momenta - state.masses.unsqueeze(1) * (total / mass.unsqueeze(1))[idx]


def langevin_baoab_step(
    state: MDState,
    model: EnergyForces,
    dt: float,
    *,
    temperature_K: torch.Tensor,
    friction: float,
    noise: torch.Tensor,
    **_: Any,
) -> MDState:
    """One BAOAB step. ``temperature_K`` (S,) per system; ``friction`` in 1/(ASE time);
    ``noise`` (N, 3) standard normal draws for this step."""
    assert state.forces is not None
    half = 0.5 * dt
    inv_m = 1.0 / state.masses.unsqueeze(1)
    momenta = state.momenta + half * state.forces
    positions = state.positions + half * momenta * inv_m
    c1 = math.exp(-friction * dt)
    kT = (units.kB * temperature_K.to(state.dtype))[state.system_index]
    sigma = torch.sqrt((1.0 - c1 * c1) * state.masses * kT).unsqueeze(1)
    momenta = remove_com_momentum(state, c1 * momenta + sigma * noise)
    positions = positions + half * momenta * inv_m
    energies, forces = evaluate(model, state, positions)
    return state.moved(positions, momenta + half * forces, forces, energies)


InitFn = Callable[..., MDState]
StepFn = Callable[..., MDState]

#: name -> (init, step). "nve": velocity Verlet; "nvt_langevin": Langevin BAOAB.
INTEGRATORS: dict[str, tuple[InitFn, StepFn]] = {
    "nve": (ensure_forces, velocity_verlet_step),
    "nvt_langevin": (ensure_forces, langevin_baoab_step),
}


def get_integrator(name: str) -> tuple[InitFn, StepFn]:
    try:
        return INTEGRATORS[name]
    except KeyError:
        raise ValueError(f"unknown integrator {name!r}; known: {sorted(INTEGRATORS)}") from None
