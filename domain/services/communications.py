"""Submitting communications, notes and documents for writeback, and reading documents back.

They run on the payments' engine: an intent per platform id (idempotent per location),
the settings version and snapshot it was decided under, posting by the same worker job
with the same retries, reconciliation by marker, history, live events and notices.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.communication_settings import (
    UNTYPED,
    CommunicationWritebackSettings,
    DocumentType,
)
from domain.communication_submission import (
    CHANNELS,
    CommunicationSubmission,
    DocumentSubmission,
    ValidCommunication,
    ValidDocument,
    document_description,
    entry_body,
    validate_communication,
    validate_document,
)
from domain.enums import PmsSystem, WritebackKind, WritebackStatus
from domain.errors import ConnectionNotConfigured, PmsUnavailable
from domain.payment_note import marker_for
from domain.persistence.base import new_id, utcnow
from domain.persistence.models import Location, WritebackDocument, WritebackIntent
from domain.persistence.uow import UnitOfWork
from domain.ports import ConnectorError, ConnectorRegistry, PmsConnector, PmsDocument, SecretBox
from domain.principal import Principal
from domain.services.communication_settings import current_settings
from domain.services.connections import connector_for_location
from domain.services.tenancy import require_location
from domain.services.writebacks import Submitted, insert_intent, replay_of


def _local(moment: datetime, location: Location) -> str:
    """The office's wall-clock time, which is what the PMS keeps (without a zone)."""
    return moment.astimezone(ZoneInfo(location.time_zone)).replace(tzinfo=None).isoformat()


async def _numeric_ids(uow: UnitOfWork, registry: ConnectorRegistry, location_id: str) -> bool:
    connection = await uow.connections.get(location_id)
    capabilities = registry.capabilities(PmsSystem(connection.system)) if connection else None
    return bool(capabilities and capabilities.numeric_patient_ids)


def _new_intent(
    location: Location,
    kind: WritebackKind,
    source_id: str,
    fingerprint: str,
    patient_ref: str,
    occurred_at: datetime,
    status: WritebackStatus,
    payload: dict[str, object],
    settings: CommunicationWritebackSettings,
    version: int,
) -> WritebackIntent:
    intent_id = new_id()
    now = utcnow()
    return WritebackIntent(
        id=intent_id,
        organization_id=location.organization_id,
        location_id=location.id,
        kind=kind.value,
        source_id=source_id,
        fingerprint=fingerprint,
        status=status.value,
        patient_ref=patient_ref,
        occurred_on=occurred_at.astimezone(ZoneInfo(location.time_zone)).date(),
        payload=payload,
        settings_version=version,
        settings_snapshot=settings.to_dict(),
        marker=marker_for(intent_id),
        attempt_count=0,
        budget_start_attempt=0,
        next_attempt_at=now if status is WritebackStatus.QUEUED else None,
        created_at=now,
        updated_at=now,
        completed_at=now if status is WritebackStatus.SKIPPED else None,
    )


async def _require_connection(uow: UnitOfWork, location_id: str, what: str) -> None:
    if await uow.connections.get(location_id) is None:
        raise ConnectionNotConfigured(
            f"the location has no PMS connection, so the {what} could not be written back; "
            "an admin must set the connection first"
        )


async def submit_communication(
    uow: UnitOfWork,
    principal: Principal,
    registry: ConnectorRegistry,
    submission: CommunicationSubmission,
) -> Submitted:
    principal.require_staff()
    location = await require_location(uow, principal, submission.location_id)
    valid = validate_communication(
        submission, await _numeric_ids(uow, registry, location.id), utcnow()
    )
    kind = WritebackKind.COMMUNICATION

    def replay() -> Awaitable[Submitted | None]:
        return replay_of(
            uow,
            location.id,
            kind,
            submission.communication_id,
            valid.fingerprint,
            "communicationId",
        )

    earlier = await replay()
    if earlier is not None:
        return earlier
    versioned = await current_settings(uow, location.id)
    settings = versioned.settings
    rule = settings.rule_for(submission.type)
    allowed = rule.allowed and settings.provider is not None
    if allowed:
        await _require_connection(uow, location.id, "communication")
    intent = _new_intent(
        location,
        kind,
        submission.communication_id,
        valid.fingerprint,
        submission.patient_ref,
        submission.occurred_at,
        WritebackStatus.QUEUED if allowed else WritebackStatus.SKIPPED,
        _communication_payload(valid, location, settings),
        settings,
        versioned.version,
    )
    return await insert_intent(uow, intent, replay)


def _communication_payload(
    valid: ValidCommunication,
    location: Location,
    settings: CommunicationWritebackSettings,
) -> dict[str, object]:
    s = valid.submission
    channel, direction = CHANNELS[s.type]
    rule = settings.rule_for(s.type)
    return {
        "type": s.type.value,
        "channel": channel.value,
        "direction": direction.value,
        "note_type": None if s.type in UNTYPED else rule.note_type,
        "provider": settings.provider,
        "occurred_at": s.occurred_at.isoformat(),
        "occurred_local": _local(s.occurred_at, location),
        "text": valid.text,
        "call_duration_seconds": s.call_duration_seconds,
        "call_outcome": s.call_outcome.value if s.call_outcome else None,
        "task_ref": s.task_ref,
        "note_body": entry_body(valid),
    }


async def submit_document(
    uow: UnitOfWork,
    principal: Principal,
    registry: ConnectorRegistry,
    submission: DocumentSubmission,
    max_bytes: int,
) -> Submitted:
    principal.require_staff()
    location = await require_location(uow, principal, submission.location_id)
    valid = validate_document(submission, await _numeric_ids(uow, registry, location.id), max_bytes)
    kind = WritebackKind.DOCUMENT

    def replay() -> Awaitable[Submitted | None]:
        return replay_of(
            uow, location.id, kind, submission.document_id, valid.fingerprint, "documentId"
        )

    earlier = await replay()
    if earlier is not None:
        return earlier
    versioned = await current_settings(uow, location.id)
    settings = versioned.settings
    category = settings.document_rule(submission.type).write_category
    if category is not None:
        await _require_connection(uow, location.id, "document")
    intent = _new_intent(
        location,
        kind,
        submission.document_id,
        valid.fingerprint,
        submission.patient_ref,
        submission.created_at,
        WritebackStatus.QUEUED if category else WritebackStatus.SKIPPED,
        _document_payload(valid, location, settings, category),
        settings,
        versioned.version,
    )
    submitted = await insert_intent(uow, intent, replay)
    if not submitted.replayed:
        uow.documents.add(
            WritebackDocument(
                intent_id=intent.id,
                content_type=submission.content_type,
                content=submission.content,
            )
        )
        await uow.flush()
    return submitted


def _document_payload(
    valid: ValidDocument,
    location: Location,
    settings: CommunicationWritebackSettings,
    category: str | None,
) -> dict[str, object]:
    s = valid.submission
    return {
        "type": s.type.value,
        "category": category,
        "provider": settings.provider,
        "content_type": s.content_type,
        "extension": valid.extension,
        "size": len(s.content),
        "sha256": valid.sha256,
        "description": document_description(valid),
        "created_local": _local(s.created_at, location),
    }


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class DocumentsSource:
    connector: PmsConnector
    category: str | None


async def documents_source(
    uow: UnitOfWork,
    principal: Principal,
    secret_box: SecretBox,
    registry: ConnectorRegistry,
    location_id: str,
    document_type: DocumentType,
) -> DocumentsSource:
    """Where a location's documents of a type are read from (its read category)."""
    principal.require_staff()
    await require_location(uow, principal, location_id)
    settings = (await current_settings(uow, location_id)).settings
    connector = await connector_for_location(uow, secret_box, registry, location_id)
    return DocumentsSource(connector, settings.document_rule(document_type).read_category)


async def list_documents(source: DocumentsSource, patient_ref: str) -> list[PmsDocument]:
    """Outside any unit of work: one read of the PMS through its throttle."""
    if source.category is None:
        return []
    try:
        return await source.connector.list_documents(patient_ref, source.category)
    except ConnectorError as exc:
        raise PmsUnavailable(
            f"could not read the patient's documents: {exc.message}",
            getattr(exc, "hint", "Run checkConnection to see which part of the connection fails"),
        ) from exc
