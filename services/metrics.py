"""What the service measures about itself, for Prometheus: request latency per GraphQL
operation, SQL statements per request, outbox lag, open WebSocket sockets, dispatcher retries.

With several workers prometheus-client's multiprocess mode is used: ``PROMETHEUS_MULTIPROC_DIR``
must be set in the environment before this module is imported (server.serve does it), and
``render`` then merges what every worker wrote there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "DISPATCHER_RETRIES",
    "OPEN_SOCKETS",
    "OUTBOX_LAG",
    "REQUEST_LATENCY",
    "SQL_STATEMENTS",
    "OperationNames",
    "render",
]

OTHER = "other"

REQUEST_LATENCY = Histogram(
    "graphql_request_seconds",
    "Time to answer one HTTP request to /graphql, by operation name",
    ["operation"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
SQL_STATEMENTS = Histogram(
    "sql_statements_per_request",
    "SQL statements one HTTP request ran",
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55),
)
OUTBOX_LAG = Histogram(
    "outbox_lag_seconds",
    "Age of an outbox row when a dispatcher claimed it for the first time",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0),
)
OPEN_SOCKETS = Gauge(
    "websocket_open_sockets", "WebSocket connections open now", multiprocess_mode="livesum"
)
DISPATCHER_RETRIES = Counter(
    "outbox_dispatcher_retries", "Outbox deliveries put back for another attempt"
)


class OperationNames:
    """The label of an operation: its name when it is one the service knows, else "other",
    so that clients cannot create unbounded label values."""

    def __init__(self, known: Iterable[str]) -> None:
        self._known = frozenset(known)

    def label(self, name: str | None) -> str:
        if name and name in self._known:
            return name
        return OTHER


def render() -> tuple[bytes, str]:
    """The exposition text of this process, or of every worker in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
