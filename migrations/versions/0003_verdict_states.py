"""verdict states: ``inconclusive`` and ``protocol invalid`` need a wider column

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.alter_column(
            "verdict",
            existing_type=sa.String(length=8),
            type_=sa.String(length=20),
            existing_nullable=True,
        )


def downgrade() -> None:
    op.execute(
        "UPDATE runs SET verdict = NULL WHERE verdict IN ('inconclusive', 'protocol invalid')"
    )
    with op.batch_alter_table("runs") as batch:
        batch.alter_column(
            "verdict",
            existing_type=sa.String(length=20),
            type_=sa.String(length=8),
            existing_nullable=True,
        )
