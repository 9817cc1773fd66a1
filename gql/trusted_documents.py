"""Trusted documents: in production only the operations kept in ``operations/`` are executed.

A document's id is ``sha256:`` and the lowercase hex SHA-256 of its exact UTF-8 text;
``operations/manifest.json`` (written by ``make operations``) maps each id to its text.
A request names a document by id (``documentId``, ``extensions.documentId``, or Apollo's
``extensions.persistedQuery.sha256Hash``) or sends its exact text. In production anything else
is refused with ``PERSISTED_DOCUMENT_NOT_FOUND`` before it is parsed; documents cannot be
registered at run time. In development any text is accepted, and ids of known documents too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from gql.errors import GraphQLErrorCode, extensions_for

PREFIX = "sha256:"
OPERATIONS_DIR = Path(__file__).resolve().parents[1] / "operations"
MANIFEST = OPERATIONS_DIR / "manifest.json"
NOT_FOUND = GraphQLErrorCode.PERSISTED_DOCUMENT_NOT_FOUND


def document_id(text: str) -> str:
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


class DocumentRefused(Exception):
    """The request names or sends a document this service does not execute."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions=extensions_for(NOT_FOUND))

    def body(self) -> dict[str, Any]:
        return {"errors": [self.error.formatted]}


def requested_id(payload: Mapping[str, Any]) -> str | None:
    """The document id a request body (or socket payload) names, if any."""
    extensions = payload.get("extensions")
    extensions = extensions if isinstance(extensions, Mapping) else {}
    named = payload.get("documentId", extensions.get("documentId"))
    if named is not None:
        return named if isinstance(named, str) else ""
    persisted = extensions.get("persistedQuery")
    if isinstance(persisted, Mapping) and "sha256Hash" in persisted:
        digest = persisted["sha256Hash"]
        return PREFIX + digest if isinstance(digest, str) else ""
    return None


class TrustedDocuments:
    def __init__(self, documents: Mapping[str, str], *, enforce: bool) -> None:
        self.by_id = dict(documents)
        self.texts = frozenset(self.by_id.values())
        self.enforce = enforce

    @classmethod
    def load(cls, *, enforce: bool, path: Path = MANIFEST) -> TrustedDocuments:
        documents = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if enforce and not documents:
            raise RuntimeError(f"no trusted documents in {path}: run `make operations`")
        return cls(documents, enforce=enforce)

    def resolve(self, query: object, named: str | None) -> str | None:
        """The text to execute; raises DocumentRefused. None: no query (strawberry answers)."""
        if named is not None:
            text = self.by_id.get(named)
            if text is None:
                if self.enforce or not isinstance(query, str) or not query:
                    raise DocumentRefused(
                        "未找到此文档标识对应的操作 (unknown document id); "
                        "documents cannot be registered at run time."
                    )
                return query
            if isinstance(query, str) and query and query != text:
                raise DocumentRefused("The query text does not match the document id.")
            return text
        if not self.enforce or not isinstance(query, str):
            return query if isinstance(query, str) or query is None else None
        if query not in self.texts:
            raise DocumentRefused("只接受已登记的操作 (only trusted documents are executed).")
        return query

    def admit(self, body: object) -> object:
        """An HTTP request body with ``query`` set to the text to execute."""
        if not isinstance(body, dict):
            return body
        query = body.get("query")
        if not isinstance(query, str | None):
            return body  # strawberry answers 400 for a query of the wrong type
        resolved = self.resolve(query, requested_id(body))
        if resolved is not None:
            body["query"] = resolved
        return body


class TrustedDocumentsGate(SchemaExtension):
    """A backstop on every transport: in production a text outside the manifest never parses."""

    def __init__(self, trusted: TrustedDocuments) -> None:
        super().__init__()
        self.trusted = trusted

    def on_operation(self) -> Iterator[None]:
        query = self.execution_context.query
        if self.trusted.enforce and query is not None and query not in self.trusted.texts:
            raise DocumentRefused("只接受已登记的操作 (only trusted documents are executed).").error
        yield


class TrustedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws: ``subscribe`` may carry ``extensions.documentId`` and no query."""

    @property
    def trusted(self) -> TrustedDocuments:
        trusted: TrustedDocuments = getattr(self.view, "trusted")  # noqa: B009 - GraphQLView
        return trusted

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            payload: dict[str, Any] = dict(message["payload"])
            try:
                payload["query"] = self.trusted.resolve(payload.get("query"), requested_id(payload))
            except DocumentRefused as refused:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refused.error.formatted]}
                )
                return
            message = {**message, "payload": payload}  # type: ignore[typeddict-item]
        await super().handle_subscribe(message)


class TrustedGraphQLWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """Legacy graphql-ws: the same for ``start``."""

    @property
    def trusted(self) -> TrustedDocuments:
        trusted: TrustedDocuments = getattr(self.view, "trusted")  # noqa: B009 - GraphQLView
        return trusted

    async def handle_start(self, message: StartMessage) -> None:
        payload: dict[str, Any] = dict(message["payload"])
        try:
            payload["query"] = self.trusted.resolve(payload.get("query"), requested_id(payload))
        except DocumentRefused as refused:
            await self.send_message(
                {"type": "error", "id": message["id"], "payload": refused.error.formatted}
            )
            return
        await super().handle_start({**message, "payload": payload})  # type: ignore[typeddict-item]
