"""The control of a run: its config, and the content key it is cached under."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mdval import __version__
from mdval.md.config import RunConfig
from mdval.metrics.stability import CRASH_CHECKS_VERSION

#: The protocol fields a control shares with the run it controls (all but the model, the
#: reference, the profile, engine and device: these change how a run is judged or where it
#: runs, not the trajectory).
PROTOCOL_FIELDS: tuple[str, ...] = (
    "structure",
    "temperature_K",
    "timestep_fs",
    "duration_ps",
    "equilibration_ps",
    "seed",
    "record_every",
    "frame_every",
    "friction_per_ps",
)


def control_config(config: RunConfig) -> RunConfig | None:
    """The reference run under ``config``'s protocol; None when ``config`` has no reference.

    The control has no reference of its own (its forces are the reference's), and picks its
    engine itself (a torch run's reference may be an ASE calculator).
    """
    if config.reference is None:
        return None
    return config.model_copy(
        update={"model": config.reference, "reference": None, "engine": "auto"}
    )


def control_key(config: RunConfig, *, reference_sha256: str, structure_sha256: str) -> str:
    """sha256 over the reference's and structure's content hashes, the protocol, the mdval
    version and the crash checks' version. Two runs share a control exactly when their keys
    are equal."""
    payload: dict[str, Any] = {
        "reference_sha256": reference_sha256,
        "structure_sha256": structure_sha256,
        "protocol": {
            name: getattr(config, name) for name in PROTOCOL_FIELDS if name != "structure"
        },
        "mdval_version": __version__,
        "crash_checks": CRASH_CHECKS_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
