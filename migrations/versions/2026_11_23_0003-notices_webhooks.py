"""grouped notices and their webhooks

Notices of one cause are grouped while open (group key, occurrences, last occurrence, the
writebacks they are about) and resolved once those are posted; a location may have a
webhook (URL, encrypted signing secret) and every delivery is logged.

Existing notices become one occurrence of their writeback, ungrouped (no open group key).

Revision ID: 0003notices
Revises: 4108554cc7c2
Create Date: 2026-11-23 20:02:51.339818
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003notices"
down_revision: str | None = "4108554cc7c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_webhook_endpoints_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_endpoints_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoints_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "notification_writebacks",
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("intent_id", sa.String(length=36), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["intent_id"],
            ["writeback_intents.id"],
            name=op.f("fk_notification_writebacks_intent_id_writeback_intents"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_writebacks_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint(
            "notification_id", "intent_id", name=op.f("pk_notification_writebacks")
        ),
    )
    with op.batch_alter_table("notification_writebacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_writebacks_intent_id"), ["intent_id"], unique=False
        )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_webhook_deliveries_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_webhook_deliveries_notification_id_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_deliveries_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_deliveries_location", ["location_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_notification_id"), ["notification_id"], unique=False
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("open_group_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("occurrences", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("last_occurred_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_webhook_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_notifications_location_id_open_group_key"),
            ["location_id", "open_group_key"],
        )
    # Existing notices: one occurrence each, about their own writeback.
    op.execute("UPDATE notifications SET occurrences = 1, last_occurred_at = created_at")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("occurrences", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "last_occurred_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    # After the batch above: on SQLite it copies the table, which a reference to it would block.
    op.execute(
        "INSERT INTO notification_writebacks (notification_id, intent_id, added_at) "
        "SELECT id, intent_id, created_at FROM notifications WHERE intent_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_notifications_location_id_open_group_key"), type_="unique"
        )
        batch_op.drop_column("last_webhook_at")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("last_occurred_at")
        batch_op.drop_column("occurrences")
        batch_op.drop_column("open_group_key")
        batch_op.drop_column("group_key")

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_notification_id"))
        batch_op.drop_index("ix_webhook_deliveries_location")
        batch_op.drop_index("ix_webhook_deliveries_due")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("notification_writebacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_writebacks_intent_id"))

    op.drop_table("notification_writebacks")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoints_organization_id"))

    op.drop_table("webhook_endpoints")
