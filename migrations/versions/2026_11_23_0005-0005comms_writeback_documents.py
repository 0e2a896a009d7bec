"""writeback documents, one refund per payment

The file of each document writeback, kept apart from the intent row; at most one refund
intent per refunded payment (its fingerprint), enforced by the database.

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
    op.create_index(
        "uq_writeback_intents_one_refund",
        "writeback_intents",
        ["location_id", "fingerprint"],
        unique=True,
        postgresql_where=sa.text("kind = 'refund'"),
        sqlite_where=sa.text("kind = 'refund'"),
    )


def downgrade() -> None:
    op.drop_index("uq_writeback_intents_one_refund", table_name="writeback_intents")
    op.drop_table("writeback_documents")
