"""recommendation history with validity times; per-replica inference time and batch size

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "recommendation_history",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("model_id", BIG_ID, nullable=False),
        sa.Column("suite", sa.String(length=200), nullable=False),
        sa.Column("recommendation", sa.String(length=100), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("n_runs", sa.Integer(), nullable=False),
        sa.Column("verdicts", JSON, nullable=True),
        sa.Column("run_id", BIG_ID, nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_recommendation_history_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_history")),
    )
    op.create_index(
        "ix_recommendation_history_model_suite_from",
        "recommendation_history",
        ["model_id", "suite", "valid_from"],
        unique=False,
    )
    # what is current now has held since its last update
    op.execute(
        "INSERT INTO recommendation_history "
        "(model_id, suite, recommendation, evidence, n_runs, valid_from) "
        "SELECT model_id, suite, recommendation, evidence, n_runs, updated_at "
        "FROM recommendations"
    )
    # a cancelled run decides nothing (its partial summary's verdict used to be stored)
    op.execute("UPDATE runs SET verdict = NULL, recommendation = NULL WHERE status = 'cancelled'")
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("inference_ms_per_replica_step", sa.Double(), nullable=True))
        batch.add_column(sa.Column("batch_size", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        size = "(summary->'provenance'->>'batch_size')::int"
        op.execute(f"UPDATE runs SET batch_size = {size} WHERE summary IS NOT NULL")
    else:
        op.execute(
            "UPDATE runs SET batch_size = "
            "CAST(json_extract(summary, '$.provenance.batch_size') AS INTEGER) "
            "WHERE summary IS NOT NULL"
        )
    op.execute(
        "UPDATE runs SET inference_ms_per_replica_step = "
        "inference_ms_per_step / COALESCE(batch_size, 1) WHERE inference_ms_per_step IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("batch_size")
        batch.drop_column("inference_ms_per_replica_step")
    op.drop_index("ix_recommendation_history_model_suite_from", "recommendation_history")
    op.drop_table("recommendation_history")
