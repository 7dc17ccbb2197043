"""Run the Alembic migrations from code (``mdval migrate``, ``mdval standalone``, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

#: migrations/ sits next to app/ in the source tree and in an installed wheel.
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
