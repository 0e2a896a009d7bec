"""Every status change of a writeback is published, after commit, to its location's channel."""

from __future__ import annotations

from domain.events import writeback_channel, writeback_event
from domain.persistence.models import WritebackIntent
from domain.persistence.uow import UnitOfWork


def publish_status(uow: UnitOfWork, intent: WritebackIntent) -> None:
    uow.publish_after_commit(
        writeback_channel(intent.location_id),
        writeback_event(
            organization_id=intent.organization_id,
            location_id=intent.location_id,
            intent_id=intent.id,
            kind=intent.kind,
            source_id=intent.source_id,
            status=intent.status,
            reason=intent.failure_reason,
            hint=intent.failure_hint,
            pms_record_id=intent.pms_record_id,
        ),
    )
