"""Communication, note and document writeback settings of a location (pure rules).

Entries are attributed to one PMS provider the practice chooses; each writeback type has an
allow switch and the PMS note type it is written as; each document type has the PMS
category it is written into and the one it is read from.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.errors import FieldError

SETTINGS_KIND = "communication_writeback"


class CommunicationType(StrEnum):
    OUTGOING_SMS = "outgoing_sms"
    INCOMING_SMS = "incoming_sms"
    OUTGOING_EMAIL = "outgoing_email"
    INCOMING_CALL = "incoming_call"
    OUTGOING_CALL = "outgoing_call"
    MISSED_CALL = "missed_call"
    PATIENT_NOTE = "patient_note"
    TASK_NOTE = "task_note"
    INSURANCE_VERIFICATION_NOTE = "insurance_verification_note"


class DocumentType(StrEnum):
    INSURANCE_VERIFICATION = "insurance_verification"
    ACCOUNT_STATEMENT = "account_statement"


# Written into the patient's own note or a task's notes, which have no note type.
UNTYPED = frozenset({CommunicationType.PATIENT_NOTE, CommunicationType.TASK_NOTE})


@dataclass(frozen=True)
class TypeRule:
    allowed: bool = False
    note_type: str | None = None


@dataclass(frozen=True)
class DocumentRule:
    write_category: str | None = None
    read_category: str | None = None


@dataclass(frozen=True)
class PmsProvider:
    id: str
    hidden: bool


@dataclass(frozen=True)
class CommunicationWritebackSettings:
    provider: str | None = None
    types: Mapping[CommunicationType, TypeRule] = field(default_factory=dict)
    documents: Mapping[DocumentType, DocumentRule] = field(default_factory=dict)

    def rule_for(self, kind: CommunicationType) -> TypeRule:
        return self.types.get(kind, TypeRule())

    def document_rule(self, kind: DocumentType) -> DocumentRule:
        return self.documents.get(kind, DocumentRule())

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "types": {
                k.value: {"allowed": r.allowed, "note_type": r.note_type}
                for k, r in sorted(self.types.items())
            },
            "documents": {
                k.value: {"write_category": r.write_category, "read_category": r.read_category}
                for k, r in sorted(self.documents.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CommunicationWritebackSettings:
        return cls(
            provider=data.get("provider"),
            types={
                CommunicationType(k): TypeRule(bool(v["allowed"]), v.get("note_type"))
                for k, v in data.get("types", {}).items()
            },
            documents={
                DocumentType(k): DocumentRule(v.get("write_category"), v.get("read_category"))
                for k, v in data.get("documents", {}).items()
            },
        )


@dataclass(frozen=True)
class PmsLists:
    """What the PMS offers; None where it could not be read (no connection yet)."""

    providers: Collection[PmsProvider] | None
    note_types: Collection[str] | None
    document_categories: Collection[str] | None


def validate(settings: CommunicationWritebackSettings, pms: PmsLists) -> list[FieldError]:
    errors: list[FieldError] = []
    allowed = [k for k, r in settings.types.items() if r.allowed]
    if settings.provider is None:
        if allowed:
            errors.append(
                FieldError(
                    "provider",
                    "choose the PMS provider entries are attributed to before allowing any type",
                )
            )
    elif pms.providers is None:
        errors.append(FieldError("provider", "connect the location's PMS first"))
    else:
        provider = next((p for p in pms.providers if p.id == settings.provider), None)
        if provider is None:
            errors.append(
                FieldError("provider", f"provider {settings.provider!r} is not in the PMS")
            )
        elif provider.hidden:
            errors.append(
                FieldError(
                    "provider",
                    f"provider {settings.provider!r} is hidden or inactive in the PMS; "
                    "choose an active one",
                )
            )
    for kind, rule in sorted(settings.types.items()):
        name = f"types.{kind.value}.noteType"
        if kind in UNTYPED:
            if rule.note_type is not None:
                errors.append(FieldError(name, "this type has no note type in the PMS"))
            continue
        if rule.allowed and rule.note_type is None:
            errors.append(FieldError(name, "choose the PMS note type to write it as"))
        if rule.note_type is not None:
            if pms.note_types is None:
                errors.append(FieldError(name, "connect the location's PMS first"))
            elif rule.note_type not in pms.note_types:
                errors.append(
                    FieldError(name, f"note type {rule.note_type!r} is not active in the PMS")
                )
    for document, doc in sorted(settings.documents.items()):
        for label, category in (
            ("writeCategory", doc.write_category),
            ("readCategory", doc.read_category),
        ):
            if category is None:
                continue
            name = f"documents.{document.value}.{label}"
            if pms.document_categories is None:
                errors.append(FieldError(name, "connect the location's PMS first"))
            elif category not in pms.document_categories:
                errors.append(
                    FieldError(name, f"document category {category!r} is not active in the PMS")
                )
    return errors
