"""The GraphQL schema: the areas' queries, mutations and subscriptions merged into one."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.tools import merge_types

from gql.attachments.mutations import AttachmentMutation
from gql.attachments.queries import AttachmentQuery
from gql.auth.mutations import AuthMutation
from gql.auth.queries import AuthQuery
from gql.coercion_errors import ChineseCoercionErrors
from gql.document_cost import Limits
from gql.errors import GraphQLErrorCode
from gql.guard import DocumentGuard, GuardedSchema
from gql.metrics_extension import OperationLabel
from gql.reference.queries import ReferenceQuery
from gql.registration.mutations import RegistrationMutation
from gql.registration.queries import RegistrationQuery
from gql.review.mutations import ReviewMutation
from gql.review.queries import ReviewQuery
from gql.scalars import SCALAR_OVERRIDES
from gql.staff.mutations import StaffMutation
from gql.stats.queries import StatsQuery
from gql.subscriptions import Subscription
from gql.trusted_documents import TrustedDocuments, TrustedDocumentsGate

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
    max_tokens: int = 1000,
    max_aliases: int = 30,
    max_fields: int = 300,
    max_cost: int = 20_000,
    trusted: TrustedDocuments | None = None,
) -> strawberry.Schema:
    # The cost pre-check replaces graphql-core's depth and alias rules: those re-expand every
    # fragment at each spread. It runs before validation, which only sees what passed it.
    limits = Limits(
        max_depth=max_depth, max_aliases=max_aliases, max_fields=max_fields, max_cost=max_cost
    )
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = []
    if trusted is not None:
        extensions.append(lambda: TrustedDocumentsGate(trusted))  # first: before parsing
    extensions += [
        lambda: ParserCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: DocumentGuard(limits, hide_suggestions=production),
        OperationLabel,
    ]
    if production:
        extensions += [
            DisableIntrospection,
            lambda: MaskErrors(
                should_mask_error=_is_unexpected, error_message="服务内部错误，请稍后再试。"
            ),
        ]
    extensions.append(ChineseCoercionErrors)  # last: it must see errors before MaskErrors
    schema = GuardedSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
    )
    schema.production = production
    return schema


def export_sdl() -> str:
    """The schema as SDL, as written to schema.graphql (production shape, no limits matter)."""
    return build_schema(production=False).as_str() + "\n"
