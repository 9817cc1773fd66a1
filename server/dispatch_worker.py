"""The outbox dispatcher as its own process, and the operators' outbox commands.

    python -m server.dispatch_worker              # run until SIGTERM / SIGINT
    python -m server.dispatch_worker status       # rows per state, and the DEAD ones
    python -m server.dispatch_worker retry-dead [ID ...]   # requeue DEAD rows

Configuration is the service's (DATABASE_URL, REDIS_URL, SMS_*, OUTBOX_*). Run it with
DISPATCHER_IN_PROCESS=false on the web workers, or beside in-process dispatchers: claims
never overlap. With REDIS_URL set it also listens on ``outbox:wake``, where web workers
announce commits, so delivery does not wait for the next poll.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

import structlog

from config.logs import configure_logging
from config.settings import Settings
from integrations import broker_factory
from integrations.broker import Gap, InProcessBroker
from integrations.sms import factory as sms_factory
from models.db import create_engine, session_factory
from services.dispatcher import (
    WAKE_CHANNEL,
    DispatcherConfig,
    OutboxDispatcher,
    dead_messages,
    outbox_counts,
    retry_dead,
)

_log = structlog.get_logger("outbox.worker")


async def run(settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_size=4)
    broker = broker_factory.from_settings(settings, client_name="outbox-dispatcher")
    sms = sms_factory.from_settings(settings)
    dispatcher = OutboxDispatcher(
        session_factory(engine),
        broker,
        sms,
        DispatcherConfig.from_settings(settings),
        postgres=engine.dialect.name == "postgresql",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async def listen_for_wakeups() -> None:
        async with broker.subscribe(WAKE_CHANNEL) as wakeups:
            async for item in wakeups:
                dispatcher.wake()  # a commit elsewhere, or a Gap: look now either way
                if isinstance(item, Gap):
                    _log.info("outbox.worker.wake_gap")

    await broker.start()
    await dispatcher.start()
    listener = (
        None if isinstance(broker, InProcessBroker) else asyncio.create_task(listen_for_wakeups())
    )
    _log.info("outbox.worker.started", postgres=engine.dialect.name == "postgresql")
    try:
        await stop.wait()
    finally:
        _log.info("outbox.worker.stopping")
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        await dispatcher.stop()
        await broker.aclose()
        await sms.aclose()
        await engine.dispose()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


async def status(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        db = session_factory(engine)
        counts = await outbox_counts(db)
        _say(" ".join(f"{name}={count}" for name, count in counts.items()))
        for row in await dead_messages(db):
            _say(
                f"DEAD id={row.id} channel={row.channel} key={row.dedupe_key} "
                f"attempts={row.attempts} error={row.last_error}"
            )
    finally:
        await engine.dispose()
    return 1 if counts.get("DEAD") else 0


async def requeue(settings: Settings, ids: Sequence[int]) -> int:
    engine = create_engine(settings.database_url)
    try:
        count = await retry_dead(session_factory(engine), ids or None)
    finally:
        await engine.dispose()
    _say(f"requeued {count}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.dispatch_worker")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="deliver outbox rows until stopped (the default)")
    commands.add_parser("status", help="rows per state and the DEAD rows (exit 1 if any)")
    again = commands.add_parser("retry-dead", help="requeue DEAD rows (all, or the ids given)")
    again.add_argument("ids", nargs="*", type=int)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    if args.command == "status":
        return asyncio.run(status(settings))
    if args.command == "retry-dead":
        return asyncio.run(requeue(settings, args.ids))
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
