"""daily runs and manual posting

Each location's daily writeback run (one per location and local day), the run an item went
out in, and who marked an item as posted by hand.

Revision ID: 0003daily
Revises: 0003notices
Create Date: 2026-11-23 19:56:52.341900
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003daily"
down_revision: str | None = "0003notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("cutoff_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("triggered_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_daily_runs_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_daily_runs_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_runs")),
        sa.UniqueConstraint(
            "location_id", "run_key", name=op.f("uq_daily_runs_location_id_run_key")
        ),
    )
    with op.batch_alter_table("daily_runs", schema=None) as batch_op:
        batch_op.create_index("ix_daily_runs_status", ["status"], unique=False)

    # On SQLite: plain ADD COLUMN with an inline reference. Batch mode would rebuild the
    # table, which the foreign keys of other tables forbid once writeback_intents has rows.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE writeback_intents ADD COLUMN daily_run_id VARCHAR(36) "
            "CONSTRAINT fk_writeback_intents_daily_run_id_daily_runs REFERENCES daily_runs (id)"
        )
    else:
        op.add_column(
            "writeback_intents", sa.Column("daily_run_id", sa.String(length=36), nullable=True)
        )
        op.create_foreign_key(
            "fk_writeback_intents_daily_run_id_daily_runs",
            "writeback_intents",
            "daily_runs",
            ["daily_run_id"],
            ["id"],
        )
    op.add_column(
        "writeback_intents", sa.Column("posted_manually_by", sa.String(length=36), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("writeback_intents", schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            # SQLite drops the inline reference with its column.
            batch_op.drop_constraint(
                "fk_writeback_intents_daily_run_id_daily_runs", type_="foreignkey"
            )
        batch_op.drop_column("posted_manually_by")
        batch_op.drop_column("daily_run_id")

    with op.batch_alter_table("daily_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_runs_status")

    op.drop_table("daily_runs")
