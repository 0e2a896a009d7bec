from __future__ import annotations

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection

import api.types  # noqa: F401  (registers the domain enums with strawberry)
from api.extensions import RevokedKeyCheck
from api.mutations import Mutation
from api.queries import Query
from api.subscriptions import Subscription
from app.config import Settings
from domain.errors import DomainError


def _should_mask(error: GraphQLError) -> bool:
    # Validation/limiter errors carry no original error; domain errors are written for users.
    # Anything else may hold internals or PHI and is masked.
    original = error.original_error
    return original is not None and not isinstance(original, DomainError)


def build_schema(settings: Settings) -> Schema:
    extensions: list[type[SchemaExtension] | object] = [
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaskErrors(should_mask_error=_should_mask),
        RevokedKeyCheck,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    if settings.production:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
    )
