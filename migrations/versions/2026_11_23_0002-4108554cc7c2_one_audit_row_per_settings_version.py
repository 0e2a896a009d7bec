"""one audit row per settings version

Two concurrent settings changes could both be recorded as version N on SQLite; the unique
constraint (which also serves the index's lookups) makes that impossible on every backend.

Revision ID: 4108554cc7c2
Revises: 26896b700cdc
Create Date: 2026-11-23 19:43:30.443600
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "4108554cc7c2"
down_revision: str | None = "26896b700cdc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settings_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settings_changes_location"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_settings_changes_location_id_kind_version"),
            ["location_id", "kind", "version"],
        )


def downgrade() -> None:
    with op.batch_alter_table("settings_changes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_settings_changes_location_id_kind_version"), type_="unique"
        )
        batch_op.create_index(
            batch_op.f("ix_settings_changes_location"),
            ["location_id", "kind", "version"],
            unique=False,
        )
