"""SQL statements per request, counted: a listener on the engine adds each statement the
database runs to the counter of the request (a context variable) that caused it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["StatementLog", "count_statements", "current_log", "watch_engine"]


@dataclass(slots=True)
class StatementLog:
    """What one request ran: the count, and the SQL itself when ``keep`` (for the benchmark)."""

    count: int = 0
    keep: bool = False
    statements: list[tuple[str, Any]] = field(default_factory=list)
    operation: str | None = None  # set by the GraphQL layer: the metrics label
    outer: StatementLog | None = None  # a log counting around this one (a test, a benchmark)


_current: ContextVar[StatementLog | None] = ContextVar("statement_log", default=None)


def current_log() -> StatementLog | None:
    return _current.get()


@contextmanager
def count_statements(*, keep: bool = False) -> Iterator[StatementLog]:
    """Count the statements run inside the block (in this task and the tasks it starts);
    a log around this one counts them too."""
    log = StatementLog(keep=keep, outer=_current.get())
    token = _current.set(log)
    try:
        yield log
    finally:
        _current.reset(token)


def _before_cursor_execute(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> None:
    log = _current.get()
    while log is not None:
        log.count += 1
        if log.keep:
            log.statements.append((statement, parameters))
        log = log.outer


def watch_engine(engine: AsyncEngine) -> None:
    """Count every statement ``engine`` runs into the current request's log."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", _before_cursor_execute):
        event.listen(engine.sync_engine, "before_cursor_execute", _before_cursor_execute)
