"""What runs around every operation before and after graphql-core: the cost pre-check, cached
validation, and logging that names the operation and never its text or variables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import strawberry
import structlog
from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from gql.document_cost import Limits, check
from gql.errors import GraphQLErrorCode, extensions_for
from gql.trusted_documents import document_id

log = structlog.get_logger("gql")

# Errors a client causes and can read: never logged as faults.
USER_ERROR_CODES = frozenset({*GraphQLErrorCode, "BAD_USER_INPUT"})
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


@lru_cache(maxsize=512)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        max_errors=20,
        hide_suggestions=hide_suggestions,
    )


class DocumentGuard(SchemaExtension):
    """The cost pre-check, then graphql-core's validation (cached) only for what passed it."""

    def __init__(self, limits: Limits, *, hide_suggestions: bool) -> None:
        super().__init__()
        self.limits = limits
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.pre_execution_errors is None and document is not None:
            schema = context.schema._schema
            refusal = check(document, self.limits, schema, context.variables)
            if refusal is not None:
                context.pre_execution_errors = [refusal]
            else:
                rules = tuple(context.validation_rules)
                context.pre_execution_errors = _validate(
                    schema, document, rules, self.hide_suggestions
                )
        yield


def _operation_fields(context: ExecutionContext | None) -> dict[str, Any]:
    if context is None:
        return {}
    query = context.query
    return {
        "operation": context.operation_name,
        "document_id": document_id(query) if isinstance(query, str) else None,
    }


def is_user_error(error: GraphQLError) -> bool:
    """Parse, validation, coercion and refusal errors, and the coded errors of resolvers."""
    code = (error.extensions or {}).get("code")
    if code in USER_ERROR_CODES:
        return True
    return error.original_error is None or error.path is None


class GuardedSchema(strawberry.Schema):
    """Logs errors by operation name and document id; production strips field suggestions."""

    production = False

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if self.production:
                error.message = _SUGGESTION.sub("", error.message)
            if "tokens. Parsing aborted" in error.message:  # MaxTokensLimiter
                error.extensions = {
                    **(error.extensions or {}),
                    **extensions_for(GraphQLErrorCode.QUERY_TOO_COMPLEX),
                }
        fields = _operation_fields(execution_context)
        faults = [e for e in errors if not is_user_error(e)]
        fault_ids = {id(e) for e in faults}
        for fault in faults:
            log.error(
                "graphql.fault",
                path=".".join(str(p) for p in fault.path or ()),
                exc_info=fault.original_error,
                **fields,
            )
        if len(faults) < len(errors):
            codes = sorted(
                {
                    str((e.extensions or {}).get("code", "INVALID"))
                    for e in errors
                    if id(e) not in fault_ids
                }
            )
            log.info("graphql.refused", errors=len(errors) - len(faults), codes=codes, **fields)
