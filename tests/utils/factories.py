"""Small factories for rows the tests need (the catalogue must be seeded first)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import catalog
from app.db.models import Run


def make_run(
    engine: Engine, *, model: str = "emt", structure: str = "cu-fcc", **fields: Any
) -> int:
    """A queued run row (no message published); returns its id."""
    with Session(engine) as session:
        m = catalog.get_potential(session, key=model)
        s = catalog.get_structure(session, key=structure)
        assert m is not None and s is not None, "seed the catalogue first (fixture 'catalog')"
        config = {
            "model": m.core_spec,
            "structure": s.core_spec,
            "reference": None,
            "temperature_K": 300.0,
            "timestep_fs": 2.0,
            "duration_ps": 0.02,
            "equilibration_ps": 0.0,
            "seed": 0,
            "profile": "m6",
            "device": "cpu",
            **fields.pop("config", {}),
        }
        run = Run(
            submission_id=fields.pop("submission_id", None) or str(uuid.uuid4()),
            model_id=m.id,
            structure_id=s.id,
            model_spec=m.spec,
            structure_spec=s.spec,
            temperature_K=config["temperature_K"],
            timestep_fs=config["timestep_fs"],
            duration_ps=config["duration_ps"],
            equilibration_ps=config["equilibration_ps"],
            seed=config["seed"],
            profile=config["profile"],
            device=config["device"],
            config=config,
            queue=fields.pop("queue", "cpu"),
            status="queued",
            cancel_requested=False,
            attempt=0,
            max_attempts=fields.pop("max_attempts", 2),
            done_steps=0,
            progress=0.0,
            **fields,
        )
        session.add(run)
        session.commit()
        return run.id
