"""GraphQL for communication, note and document writeback settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.errors import AnyUserError
from api.mutations import _in_unit_of_work
from domain import communication_settings as rules
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services import communication_settings

CommunicationType = strawberry.enum(rules.CommunicationType, name="CommunicationType")
DocumentType = strawberry.enum(rules.DocumentType, name="DocumentType")


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


UpdateCommunicationWritebackSettingsResult = Annotated[
    UpdateCommunicationWritebackSettingsSuccess | AnyUserError,
    strawberry.union("UpdateCommunicationWritebackSettingsResult"),
]


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
