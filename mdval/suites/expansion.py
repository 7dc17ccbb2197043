"""A suite expanded into validated :class:`RunConfig` objects, and run keys.

Order is deterministic: the product with structures outermost, then temperatures,
timesteps, durations and seeds (each in file order), then the extra runs in file order.
``overrides`` apply to every run last (e.g. ``device="cuda"``, or ``duration_ps=1`` for
1 ps screening runs); runs that become identical are kept once, at their first place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import ValidationError

from mdval.criteria import load_profile
from mdval.criteria.datafiles import describe_validation_error
from mdval.errors import InputError
from mdval.md.config import RunConfig
from mdval.suites.schema import Suite


class _SuiteDefault(Enum):
    REFERENCE = "the suite's reference"


#: ``expand(..., reference=SUITE_DEFAULT)``: use the suite's reference (the default).
SUITE_DEFAULT = _SuiteDefault.REFERENCE

#: RunConfig fields that ``expand(**overrides)`` may set.
OVERRIDE_FIELDS = frozenset(RunConfig.model_fields) - {"model", "reference"}

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,39}")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9.+-]+")


def expand_suite(
    suite: Suite,
    *,
    model: str,
    reference: str | _SuiteDefault | None = SUITE_DEFAULT,
    **overrides: Any,
) -> list[RunConfig]:
    """Every run of ``suite`` for ``model``, validated; see the module docstring for order.

    ``reference=None`` skips force accuracy; leave it out to use the suite's reference.
    """
    s = suite
    unknown = sorted(set(overrides) - OVERRIDE_FIELDS)
    if unknown:
        raise InputError(
            f"unknown run field(s) {', '.join(unknown)}; overrides may set "
            f"{', '.join(sorted(OVERRIDE_FIELDS))}"
        )
    shared = {
        "model": model,
        "reference": s.reference if reference is SUITE_DEFAULT else reference,
        "profile": s.profile,
        "equilibration_ps": s.equilibration_ps,
        "record_every": s.record_every,
    }
    specs: list[dict[str, Any]] = [
        {
            **shared,
            "structure": structure,
            "temperature_K": temperature,
            "timestep_fs": timestep,
            "duration_ps": duration,
            "seed": seed,
        }
        for structure in s.structures
        for temperature in s.temperatures_K
        for timestep in s.timesteps_fs
        for duration in s.durations_ps
        for seed in s.seeds
    ]
    specs += [{**shared, "seed": s.seeds[0], **extra.fields()} for extra in s.extra_runs]

    configs: list[RunConfig] = []
    by_key: dict[str, RunConfig] = {}
    for index, spec in enumerate(specs):
        config = _validated({**spec, **overrides}, s.name, index, len(s.extra_runs), len(specs))
        key = run_key(config)
        if key in by_key:
            if by_key[key] == config:
                continue  # identical run (e.g. after a duration override): keep the first
            raise InputError(
                f"suite {s.name!r}: two different runs share the key {key!r}; "
                "they differ only in fields the key does not show"
            )
        by_key[key] = config
        configs.append(config)
    for profile in dict.fromkeys(c.profile for c in configs):
        load_profile(profile)  # an unknown profile fails now, not at the end of a long run
    return configs


def run_key(config: RunConfig | Mapping[str, Any]) -> str:
    """A short, stable, file-name-safe id of a run within a suite and model.

    ``structure_<T>K_<dt>fs_<duration>ps_s<seed>``, e.g. ``alanine-dipeptide_300K_0.5fs_5ps_s0``.
    A structure spec that is not a plain name (a path, SMILES) becomes a slug plus 8 hex
    digits of its sha256, so different specs never share a key.
    """
    fields = config.model_dump() if isinstance(config, RunConfig) else config
    try:
        return f"{group_key(fields)}_s{int(fields.get('seed', 0))}"
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"cannot make a run key from config {dict(fields)!r}: {exc}") from exc


def group_key(fields: Mapping[str, Any]) -> str:
    """The run key without the seed: the id shared by the replicas of one run."""
    return "_".join(
        [
            _slug(str(fields["structure"])),
            f"{_num(fields['temperature_K'])}K",
            f"{_num(fields['timestep_fs'])}fs",
            f"{_num(fields['duration_ps'])}ps",
        ]
    )


def _validated(
    spec: dict[str, Any], suite_name: str, index: int, n_extra: int, n_specs: int
) -> RunConfig:
    try:
        return RunConfig(**spec)
    except ValidationError as exc:
        n_product = n_specs - n_extra
        which = (
            f"run {index + 1}"
            if index < n_product
            else f"extra_runs.{index - n_product} (run {index + 1})"
        )
        raise InputError(
            f"suite {suite_name!r}, {which} ({spec.get('structure')}, "
            f"{spec.get('temperature_K')} K, {spec.get('timestep_fs')} fs, "
            f"{spec.get('duration_ps')} ps): {describe_validation_error(exc)}"
        ) from exc


def _num(value: Any) -> str:
    return format(float(value), ".10g")


def _slug(spec: str) -> str:
    if _SAFE_NAME.fullmatch(spec):
        return spec
    digest = hashlib.sha256(spec.encode("utf-8")).hexdigest()[:8]
    stem = _UNSAFE_CHARS.sub("-", spec).strip("-.")[:32] or "structure"
    return f"{stem}-{digest}"
