"""bench jobs and records: ``mdval bench`` run through the service

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bench_jobs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("plan", JSON, nullable=False),
        sa.Column("device", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("device_name", sa.String(length=200), nullable=True),
        sa.Column("torch_version", sa.String(length=64), nullable=True),
        sa.Column("threads", sa.Integer(), nullable=True),
        sa.Column("context", JSON, nullable=True),
        sa.Column("summary", JSON, nullable=True),
        sa.Column("wall_s", sa.Double(), nullable=True),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bench_jobs")),
    )
    op.create_index(op.f("ix_bench_jobs_created_at"), "bench_jobs", ["created_at"], unique=False)
    op.create_index(op.f("ix_bench_jobs_status"), "bench_jobs", ["status"], unique=False)
    op.create_table(
        "bench_records",
        sa.Column("job_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("experiment", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=500), nullable=False),
        sa.Column("structure", sa.String(length=1000), nullable=False),
        sa.Column("n_atoms", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("inference_ms_per_step", sa.Double(), nullable=True),
        sa.Column("step_ms", sa.Double(), nullable=True),
        sa.Column("harness_overhead", sa.Double(), nullable=True),
        sa.Column("throughput_atom_steps_per_s", sa.Double(), nullable=True),
        sa.Column("peak_memory_MB", sa.Double(), nullable=True),
        sa.Column("n_steps", sa.Integer(), nullable=False),
        sa.Column("extra", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["bench_jobs.id"],
            name=op.f("fk_bench_records_job_id_bench_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_bench_records")),
    )


def downgrade() -> None:
    op.drop_table("bench_records")
    op.drop_index(op.f("ix_bench_jobs_status"), table_name="bench_jobs")
    op.drop_index(op.f("ix_bench_jobs_created_at"), table_name="bench_jobs")
    op.drop_table("bench_jobs")
