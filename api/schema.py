from __future__ import annotations

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.tools import merge_types

import api.types  # noqa: F401  (registers the domain enums with strawberry)
from api.communication import CommunicationMutation, CommunicationQuery
from api.extensions import RevokedKeyCheck
from api.mutations import Mutation
from api.notices import NoticeMutation, NoticeQuery, NoticeSubscription
from api.queries import Query
from api.subscriptions import Subscription
from api.sync import SyncMutation, SyncQuery, SyncSubscription
from app.config import Settings
from domain.errors import DomainError


def _should_mask(error: GraphQLError) -> bool:
    # Validation/limiter errors carry no original error; domain errors are written for users.
    # Anything else may hold internals or PHI and is masked.
    original = error.original_error
    return original is not None and not isinstance(original, DomainError)


def build_schema(settings: Settings) -> Schema:
    # The limiters' rule classes are built once: a new class per request would change the
    # validation cache's key every time, and every request would be validated again.
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    extensions: list[type[SchemaExtension] | object] = [
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaskErrors(should_mask_error=_should_mask),
        RevokedKeyCheck,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    if settings.production:
        extensions.append(DisableIntrospection)
    return Schema(
        query=merge_types("Query", (Query, NoticeQuery, CommunicationQuery, SyncQuery)),
        mutation=merge_types(
            "Mutation", (Mutation, NoticeMutation, CommunicationMutation, SyncMutation)
        ),
        subscription=merge_types(
            "Subscription", (Subscription, NoticeSubscription, SyncSubscription)
        ),
        extensions=extensions,  # type: ignore[arg-type]
    )
