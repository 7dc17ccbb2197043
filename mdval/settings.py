"""Core settings: policy numbers named once, overridable by ``MDVAL_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    """Limits and thresholds of the core library (not of the service)."""

    model_config = SettingsConfigDict(env_prefix="MDVAL_", extra="ignore")

    max_atoms: int = Field(2000, description="Largest structure accepted, in atoms.")
    min_distance_A: float = Field(0.5, description="Atoms closer than this are rejected (Å).")
    bond_collapse_A: float = Field(
        0.5, description="A bond whose length changes by more than this (Å) is a collapse."
    )
    max_force_eV_per_A: float = Field(100.0, description="Crash when any |F_i| exceeds this.")
    explosion_excess_K: float = Field(
        10_000.0, description="Crash when T exceeds the target by this much (K)."
    )
    explosion_energy_kT: float = Field(
        10.0,
        description="Crash when E_tot departs from its NVE start by more than this many "
        "N k_B T (eV; N atoms, T the target).",
    )
    temperature_warning_percent: float = Field(
        10.0, description="Warn when the production mean T is off the request by more (%)."
    )
    energy_screening_meV_per_atom: float = Field(
        10.0, description="Recommendation rule 4: energy RMSE below this allows screening use."
    )
    py_factory_allowlist: list[str] = Field(
        default_factory=list,
        description="`py:module:factory` specs that may be loaded (exact strings).",
    )
    control_cache_dir: str | None = Field(
        None, description="Where control runs are cached (default ~/.cache/mdval/controls)."
    )
    smiles_seed: int = Field(42, description="Seed of the RDKit 3D embedding of SMILES input.")


@lru_cache(maxsize=1)
def get_settings() -> CoreSettings:
    """The process-wide settings (read once from the environment)."""
    return CoreSettings()
