"""Typed error results: mutations return Success | one of these; clients switch on __typename."""

from __future__ import annotations

import strawberry

from domain import errors as domain_errors


@strawberry.type
class FieldProblem:
    field: str
    message: str


@strawberry.interface
class UserError:
    message: str


@strawberry.type
class ValidationError(UserError):
    fields: list[FieldProblem]


@strawberry.type
class NotFoundError(UserError):
    pass


@strawberry.type
class ForbiddenError(UserError):
    pass


@strawberry.type
class ConflictError(UserError):
    pass


@strawberry.type
class InvalidStateError(UserError):
    pass


@strawberry.type
class ConnectionNotConfiguredError(UserError):
    pass


@strawberry.type
class PmsUnavailableError(UserError):
    hint: str


AnyUserError = (
    ValidationError
    | NotFoundError
    | ForbiddenError
    | ConflictError
    | InvalidStateError
    | ConnectionNotConfiguredError
    | PmsUnavailableError
)


def to_user_error(exc: domain_errors.DomainError) -> AnyUserError:
    if isinstance(exc, domain_errors.ValidationFailed):
        return ValidationError(
            message=exc.message,
            fields=[FieldProblem(field=e.field, message=e.message) for e in exc.errors],
        )
    if isinstance(exc, domain_errors.NotFound):
        return NotFoundError(message=exc.message)
    if isinstance(exc, domain_errors.Forbidden):
        return ForbiddenError(message=exc.message)
    if isinstance(exc, domain_errors.IdempotencyConflict):
        return ConflictError(message=exc.message)
    if isinstance(exc, domain_errors.InvalidTransition):
        return InvalidStateError(message=exc.message)
    if isinstance(exc, domain_errors.ConnectionNotConfigured):
        return ConnectionNotConfiguredError(message=exc.message)
    if isinstance(exc, domain_errors.PmsUnavailable):
        return PmsUnavailableError(message=exc.message, hint=exc.hint)
    raise exc
