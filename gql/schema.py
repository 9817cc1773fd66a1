"""The GraphQL schema: the areas' queries, mutations and subscriptions merged into one."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.max_aliases import create_validator as create_alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_rule
from strawberry.tools import merge_types

from gql.attachments.mutations import AttachmentMutation
from gql.attachments.queries import AttachmentQuery
from gql.auth.mutations import AuthMutation
from gql.auth.queries import AuthQuery
from gql.coercion_errors import ChineseCoercionErrors
from gql.errors import GraphQLErrorCode
from gql.reference.queries import ReferenceQuery
from gql.registration.mutations import RegistrationMutation
from gql.registration.queries import RegistrationQuery
from gql.review.mutations import ReviewMutation
from gql.review.queries import ReviewQuery
from gql.scalars import SCALAR_OVERRIDES
from gql.staff.mutations import StaffMutation
from gql.stats.queries import StatsQuery
from gql.subscriptions import Subscription

Query = merge_types(
    "Query",
    (AuthQuery, ReferenceQuery, RegistrationQuery, AttachmentQuery, ReviewQuery, StatsQuery),
)
Mutation = merge_types(
    "Mutation",
    (AuthMutation, RegistrationMutation, AttachmentMutation, ReviewMutation, StaffMutation),
)

EXPOSED_CODES = frozenset(GraphQLErrorCode) - {GraphQLErrorCode.PAYLOAD_TOO_LARGE}


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask faults; keep validation errors and our own coded errors readable."""
    if error.original_error is None:
        return False  # parse and validation errors
    code = (error.extensions or {}).get("code")
    return code not in EXPOSED_CODES


def build_schema(
    *,
    production: bool,
    max_depth: int = 12,
    max_tokens: int = 2000,
    max_aliases: int = 30,
) -> strawberry.Schema:
    # The rule classes are built once: the validation cache is keyed by the rules, so classes
    # made per request would miss it every time.
    limits = (create_depth_rule(max_depth, None), create_alias_rule(max_aliases))
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(list(limits)),
        lambda: ValidationCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
    ]
    if production:
        extensions += [
            DisableIntrospection,
            lambda: MaskErrors(
                should_mask_error=_is_unexpected, error_message="服务内部错误，请稍后再试。"
            ),
        ]
    extensions.append(ChineseCoercionErrors)  # last: it must see errors before MaskErrors
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
    )


def export_sdl() -> str:
    """The schema as SDL, as written to schema.graphql (production shape, no limits matter)."""
    return build_schema(production=False).as_str() + "\n"
