"""Tells the request's statement log which operation ran: the metrics label of the request."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from models.statements import current_log


def operation_label(document: object, name: str | None) -> str | None:
    """The operation's name, or for an anonymous one the name of its first root field."""
    if name:
        return name
    for definition in getattr(document, "definitions", ()):
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return selection.name.value
            return None
    return None


class OperationLabel(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        log = current_log()
        if log is not None:
            context = self.execution_context
            log.operation = operation_label(context.graphql_document, context.operation_name)
        yield
