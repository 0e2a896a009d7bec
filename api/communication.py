"""GraphQL for communications, notes and documents: their writeback settings, submitting
them for writeback, and reading a patient's documents back from the PMS."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

import strawberry

from api.context import Info
from api.errors import AnyUserError, to_user_error
from api.mutations import _in_unit_of_work, _writeback
from api.types.writeback import Writeback
from domain import communication_settings as rules
from domain.communication_submission import (
    CallOutcome,
    CommunicationSubmission,
    DocumentSubmission,
)
from domain.errors import DomainError, FieldError, ValidationFailed
from domain.persistence.uow import UnitOfWork
from domain.ports import PmsDocument as PmsDocumentModel
from domain.principal import Principal
from domain.services import communication_settings, communications


@strawberry.type
class CommunicationTypeRule:
    type: rules.CommunicationType
    allowed: bool
    note_type: str | None = strawberry.field(description="PMS note type (Open Dental commlog type)")


@strawberry.type
class DocumentTypeRule:
    type: rules.DocumentType
    write_category: str | None
    read_category: str | None


@strawberry.type
class CommunicationWritebackSettings:
    location_id: strawberry.ID
    version: int
    provider: str | None = strawberry.field(
        description="The PMS provider entries are attributed to (Open Dental ProvNum)"
    )
    types: list[CommunicationTypeRule]
    documents: list[DocumentTypeRule]

    @classmethod
    def from_model(
        cls, location_id: str, v: communication_settings.VersionedCommunicationSettings
    ) -> CommunicationWritebackSettings:
        s = v.settings
        return cls(
            location_id=strawberry.ID(location_id),
            version=v.version,
            provider=s.provider,
            types=[
                CommunicationTypeRule(
                    type=t, allowed=s.rule_for(t).allowed, note_type=s.rule_for(t).note_type
                )
                for t in rules.CommunicationType
            ],
            documents=[
                DocumentTypeRule(
                    type=d,
                    write_category=s.document_rule(d).write_category,
                    read_category=s.document_rule(d).read_category,
                )
                for d in rules.DocumentType
            ],
        )


@strawberry.input
class CommunicationTypeRuleInput:
    type: rules.CommunicationType
    allowed: bool
    note_type: str | None = None


@strawberry.input
class DocumentTypeRuleInput:
    type: rules.DocumentType
    write_category: str | None = None
    read_category: str | None = None


@strawberry.input
class CommunicationWritebackSettingsInput:
    """The whole settings: types and documents left out are not allowed / not mapped."""

    location_id: strawberry.ID
    provider: str | None = None
    types: list[CommunicationTypeRuleInput] = strawberry.field(default_factory=list)
    documents: list[DocumentTypeRuleInput] = strawberry.field(default_factory=list)

    def to_model(self) -> rules.CommunicationWritebackSettings:
        return rules.CommunicationWritebackSettings(
            provider=(self.provider or "").strip() or None,
            types={
                t.type: rules.TypeRule(t.allowed, (t.note_type or "").strip() or None)
                for t in self.types
            },
            documents={
                d.type: rules.DocumentRule(
                    (d.write_category or "").strip() or None,
                    (d.read_category or "").strip() or None,
                )
                for d in self.documents
            },
        )


@strawberry.type
class UpdateCommunicationWritebackSettingsSuccess:
    settings: CommunicationWritebackSettings


@strawberry.type
class SubmitWritebackSuccess:
    writeback: Writeback
    replayed: bool = strawberry.field(description="True when this id had already been submitted")


SubmitWritebackResult = Annotated[
    SubmitWritebackSuccess | AnyUserError, strawberry.union("SubmitWritebackResult")
]
UpdateCommunicationWritebackSettingsResult = Annotated[
    UpdateCommunicationWritebackSettingsSuccess | AnyUserError,
    strawberry.union("UpdateCommunicationWritebackSettingsResult"),
]


@strawberry.input
class SubmitCommunicationInput:
    communication_id: str = strawberry.field(
        description="The platform's id of the message, call or note; the idempotency key"
    )
    location_id: strawberry.ID
    patient_ref: str = strawberry.field(description="The patient's PMS id (Open Dental PatNum)")
    type: rules.CommunicationType = strawberry.field(
        description="Also fixes the direction (outgoing: sent, incoming and missed: received)"
    )
    occurred_at: datetime = strawberry.field(description="When it happened, with its offset")
    text: str = ""
    call_duration_seconds: int | None = None
    call_outcome: CallOutcome | None = None
    task_ref: str | None = strawberry.field(
        default=None, description="For task notes: the PMS task (Open Dental TaskNum)"
    )


@strawberry.input
class SubmitDocumentInput:
    document_id: str = strawberry.field(description="The platform's document id; idempotency key")
    location_id: strawberry.ID
    patient_ref: str = strawberry.field(description="The patient's PMS id (Open Dental PatNum)")
    type: rules.DocumentType
    content_type: str = strawberry.field(
        description="application/pdf, image/jpeg, image/png or image/tiff"
    )
    content_base64: str = strawberry.field(description="The file, base64-encoded")
    description: str = ""
    created_at: datetime


@strawberry.type
class PatientDocument:
    record_id: str = strawberry.field(description="The PMS's id (Open Dental DocNum)")
    description: str
    category: str
    created_at: datetime | None = strawberry.field(description="Office local time, no zone")
    file_name: str
    image_type: str

    @classmethod
    def from_model(cls, m: PmsDocumentModel) -> PatientDocument:
        return cls(
            record_id=m.record_id,
            description=m.description,
            category=m.category,
            created_at=m.created_at,
            file_name=m.file_name,
            image_type=m.image_type,
        )


@strawberry.type
class PatientDocumentsSuccess:
    documents: list[PatientDocument]


PatientDocumentsResult = Annotated[
    PatientDocumentsSuccess | AnyUserError, strawberry.union("PatientDocumentsResult")
]


def _decode(content_base64: str) -> bytes:
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed([FieldError("contentBase64", "is not valid base64")]) from None


@strawberry.type
class CommunicationQuery:
    @strawberry.field(description="Provider, writeback types and document categories of a location")
    async def communication_writeback_settings(
        self, info: Info, location_id: strawberry.ID
    ) -> CommunicationWritebackSettings:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            versioned = await communication_settings.get_settings(uow, p, location_id)
        return CommunicationWritebackSettings.from_model(location_id, versioned)

    @strawberry.field(
        description="A patient's documents of a type, read from its mapped PMS category"
    )
    async def patient_documents(
        self,
        info: Info,
        location_id: strawberry.ID,
        patient_ref: str,
        type: rules.DocumentType,
    ) -> PatientDocumentsResult:
        p = info.context.require_principal()
        c = info.context.container
        try:
            async with c.uow() as uow:
                source = await communications.documents_source(
                    uow, p, c.secret_box, c.registry, location_id, type
                )
            found = await communications.list_documents(source, patient_ref.strip())
        except DomainError as exc:
            return to_user_error(exc)
        return PatientDocumentsSuccess(documents=[PatientDocument.from_model(d) for d in found])


@strawberry.type
class CommunicationMutation:
    @strawberry.mutation(
        description="Checked against the PMS's providers, note types and categories"
    )
    async def update_communication_writeback_settings(
        self, info: Info, input: CommunicationWritebackSettingsInput
    ) -> UpdateCommunicationWritebackSettingsResult:
        c = info.context.container
        new = input.to_model()

        async def work(
            uow: UnitOfWork, p: Principal
        ) -> UpdateCommunicationWritebackSettingsSuccess:
            versioned = await communication_settings.replace_settings(
                uow, p, c.secret_box, c.registry, input.location_id, new
            )
            return UpdateCommunicationWritebackSettingsSuccess(
                settings=CommunicationWritebackSettings.from_model(input.location_id, versioned)
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(
        description="Write an SMS, email, call or note to the PMS as the practice mapped it"
    )
    async def submit_communication(
        self, info: Info, input: SubmitCommunicationInput
    ) -> SubmitWritebackResult:
        c = info.context.container
        submission = CommunicationSubmission(
            communication_id=input.communication_id,
            location_id=input.location_id,
            patient_ref=input.patient_ref.strip(),
            type=input.type,
            occurred_at=input.occurred_at,
            text=input.text,
            call_duration_seconds=input.call_duration_seconds,
            call_outcome=input.call_outcome,
            task_ref=input.task_ref.strip() if input.task_ref else None,
        )

        async def work(uow: UnitOfWork, p: Principal) -> SubmitWritebackSuccess:
            submitted = await communications.submit_communication(uow, p, c.registry, submission)
            return SubmitWritebackSuccess(
                writeback=await _writeback(uow, submitted.intent), replayed=submitted.replayed
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(description="Upload a document to the patient's record in the PMS")
    async def submit_document(
        self, info: Info, input: SubmitDocumentInput
    ) -> SubmitWritebackResult:
        c = info.context.container

        async def work(uow: UnitOfWork, p: Principal) -> SubmitWritebackSuccess:
            submission = DocumentSubmission(
                document_id=input.document_id,
                location_id=input.location_id,
                patient_ref=input.patient_ref.strip(),
                type=input.type,
                content_type=input.content_type.strip().lower(),
                content=_decode(input.content_base64),
                description=input.description,
                created_at=input.created_at,
            )
            submitted = await communications.submit_document(
                uow, p, c.registry, submission, c.settings.max_document_bytes
            )
            return SubmitWritebackSuccess(
                writeback=await _writeback(uow, submitted.intent), replayed=submitted.replayed
            )

        return await _in_unit_of_work(info, work)
