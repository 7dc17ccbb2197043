"""Alembic: the initial revision builds the schema of app.db.models on Postgres and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from app.db.base import Base
from app.db.migrate import downgrade, upgrade
from app.db.session import make_engine

TABLES = {
    "api_tokens", "models", "structures", "suites", "profiles", "runs", "thermo",
    "force_errors", "idempotency_keys", "recommendations", "worker_heartbeats", "counters",
}  # fmt: skip


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert schema_diff(engine) == []
        downgrade(url, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(url)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


@pytest.mark.service
def test_postgres_schema_matches_the_models(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert schema_diff(engine) == []
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("thermo")}
    assert str(columns["etot_eV"]) == "DOUBLE PRECISION"  # float64 energies
