"""writeback documents

The file of each document writeback, kept apart from the intent row.

Revision ID: 0005comms
Revises: 0003daily
Create Date: 2026-11-23 21:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005comms"
down_revision: str | None = "0003daily"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "writeback_documents",
        sa.Column("intent_id", sa.String(length=36), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent_id"],
            ["writeback_intents.id"],
            name=op.f("fk_writeback_documents_intent_id_writeback_intents"),
        ),
        sa.PrimaryKeyConstraint("intent_id", name=op.f("pk_writeback_documents")),
    )


def downgrade() -> None:
    op.drop_table("writeback_documents")
