"""A status change writes its outbox rows and statistics however little of the code is imported.

The effects used to be registered by importing ``models.stats`` and ``models.outbox``; a
script that imported only ``models.wizard`` then lost every SMS and push without a sound.
This runs such a script in a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

from server.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from sqlalchemy import text
    from models import wizard
    from models.accounts import Person
    from models.db import create_engine, session_factory, utcnow

    async def main(url):
        engine = create_engine(url)
        db = session_factory(engine)
        async with db() as session:
            person = Person(person_key="k" * 64, name="张三", id_type="01",
                            id_number="330106199003071236", phone="13812345678")
            session.add(person)
            await session.flush()
            await wizard.start_registration(
                session, person_id=person.id, new_id="a" * 32, now=utcnow()
            )
            await session.commit()
            outbox = (await session.execute(text("SELECT count(*) FROM outbox_message"))).scalar()
            counters = (await session.execute(text("SELECT count(*) FROM stats_counter"))).scalar()
        await engine.dispose()
        loaded = sorted(m for m in sys.modules if m in ("models.stats", "models.outbox"))
        print(outbox, counters, ",".join(loaded))

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_importing_only_the_wizard_still_writes_the_effects(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
    await upgrade(url)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SCRIPT, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outbox, counters, loaded = done.stdout.split()
    assert int(outbox) >= 1  # the STARTED event goes to the broker
    assert int(counters) >= 1  # and is counted
    assert loaded == "models.outbox,models.stats"
