"""Register what the core ships (potentials, structures, suites, profiles) in the database,
so that the API validates common requests without a worker round trip. Idempotent."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import catalog as catalog_crud
from app.services.submissions import potential_values, structure_values
from workers import core_bridge

log = logging.getLogger(__name__)


def seed_catalog(engine: Engine) -> dict[str, int]:
    """Upsert the core's catalogue; returns how many of each kind were registered."""
    found = core_bridge.catalog()
    with Session(engine, expire_on_commit=False) as session:
        for spec, desc in found["potentials"].items():
            catalog_crud.upsert_potential(
                session,
                spec=spec,
                values=potential_values(desc, core_spec=spec, builtin=True, created_by="seed"),
            )
        for spec, desc in found["structures"].items():
            catalog_crud.upsert_structure(
                session,
                spec=spec,
                values=structure_values(desc, core_spec=spec, source="builtin", created_by="seed"),
            )
        for suite in found["suites"]:
            catalog_crud.upsert_suite(
                session,
                name=suite["name"],
                values={
                    "description": suite["description"],
                    "definition": suite["definition"],
                    "n_runs": suite["n_runs"],
                    "builtin": True,
                },
            )
        for name, definition in found["profiles"].items():
            catalog_crud.upsert_profile(session, name=name, definition=definition)
        session.commit()
    counts = {k: len(v) for k, v in found.items()}
    log.info("catalogue registered: %s", counts)
    return counts
