"""Errors the services raise; the API maps each to a typed GraphQL result."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class NotFound(DomainError):
    """Also raised for objects of another organization: their existence is not revealed."""


class Forbidden(DomainError):
    pass


class IdempotencyConflict(DomainError):
    """The same idempotency key arrived with different content."""


class ConnectionNotConfigured(DomainError):
    pass


class PmsUnavailable(DomainError):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class InvalidTransition(DomainError):
    pass
