"""pms sync

Mirror tables of the PMS sync (patients, their pictures, appointments) and the state of
each (location, resource) poll: its cursor, last success and error, online or not.

Revision ID: 0006sync
Revises: 0005comms
Create Date: 2026-11-23 21:39:52.548242
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006sync"
down_revision: str | None = "0005comms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_states",
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("cursor", sa.String(length=32), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_changed_count", sa.Integer(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_sync_states_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sync_states_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("location_id", "resource", name=op.f("pk_sync_states")),
    )
    op.create_table(
        "synced_appointments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("pms_id", sa.String(length=64), nullable=False),
        sa.Column("pms_patient_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("flow_status", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("confirmation_id", sa.String(length=64), nullable=True),
        sa.Column("confirmation_label", sa.String(length=255), nullable=True),
        sa.Column("operatory_id", sa.String(length=64), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("provider_abbr", sa.String(length=64), nullable=True),
        sa.Column("clinic_id", sa.String(length=64), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pms_changed_at", sa.String(length=32), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_synced_appointments_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_synced_appointments_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synced_appointments")),
        sa.UniqueConstraint(
            "location_id", "pms_id", name=op.f("uq_synced_appointments_location_id_pms_id")
        ),
    )
    with op.batch_alter_table("synced_appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_synced_appointments_schedule",
            ["location_id", "local_date", "starts_at"],
            unique=False,
        )

    op.create_table(
        "synced_patient_photos",
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("pms_patient_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_synced_patient_photos_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_synced_patient_photos_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "location_id", "pms_patient_id", name=op.f("pk_synced_patient_photos")
        ),
    )
    op.create_table(
        "synced_patients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("pms_id", sa.String(length=64), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("preferred_name", sa.String(length=200), nullable=False),
        sa.Column("birthdate", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("clinic_id", sa.String(length=64), nullable=True),
        sa.Column("search_text", sa.String(length=700), nullable=False),
        sa.Column("sort_key", sa.String(length=420), nullable=False),
        sa.Column("pms_changed_at", sa.String(length=32), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("photo_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_synced_patients_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_synced_patients_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synced_patients")),
        sa.UniqueConstraint(
            "location_id", "pms_id", name=op.f("uq_synced_patients_location_id_pms_id")
        ),
    )
    with op.batch_alter_table("synced_patients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_synced_patients_page", ["location_id", "sort_key", "id"], unique=False
        )
        batch_op.create_index(
            "ix_synced_patients_photo", ["location_id", "photo_checked_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("synced_patients", schema=None) as batch_op:
        batch_op.drop_index("ix_synced_patients_photo")
        batch_op.drop_index("ix_synced_patients_page")

    op.drop_table("synced_patients")
    op.drop_table("synced_patient_photos")
    with op.batch_alter_table("synced_appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_synced_appointments_schedule")

    op.drop_table("synced_appointments")
    op.drop_table("sync_states")
