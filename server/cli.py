"""Operator commands: ``python -m server.cli create-staff …``, ``python -m server.cli import-units FILE.csv``,
and staff administration: ``deactivate-staff``, ``reactivate-staff``, ``reset-staff-password``,
``move-staff USER --department CODE``, ``unlock-staff`` (each takes a username)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from models.accounts import StaffAccount, StaffRole
from models.clock import utcnow
from models.db import create_engine, session_factory, transaction
from models.errors import ProblemsFound
from models.reference import load_reference_data
from services.staff import create_staff_account
from services.staff_admin import (
    deactivate_staff,
    move_staff,
    reactivate_staff,
    reset_staff_password,
    sessions_ended_since,
    unlock_staff,
)

Change = Callable[[AsyncSession, argparse.Namespace], Awaitable[StaffAccount]]


async def _password_reset(db: AsyncSession, args: argparse.Namespace) -> StaffAccount:
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass("新密码: ")
    return await reset_staff_password(db, args.username, password, now=utcnow())


ADMIN: dict[str, tuple[str, Change]] = {
    "deactivate-staff": (
        "disable a staff account and end its sessions",
        lambda db, a: deactivate_staff(db, a.username, now=utcnow()),
    ),
    "reactivate-staff": (
        "enable a disabled staff account",
        lambda db, a: reactivate_staff(db, a.username),
    ),
    "reset-staff-password": (
        "set a new password (from STAFF_PASSWORD or a prompt) and end the sessions",
        _password_reset,
    ),
    "move-staff": (
        "move a reviewer to another department (--department CODE)",
        lambda db, a: move_staff(db, load_reference_data(), a.username, a.department or ""),
    ),
    "unlock-staff": (
        "end the sign-in back-off from every address",
        lambda db, a: unlock_staff(db, a.username),
    ),
}


async def _administer(args: argparse.Namespace, settings: Settings) -> int:
    """Change the account; sessions it ends have their sockets closed on every worker (the
    revocation goes out over the broker, so with REDIS_URL it reaches the running service)."""
    from services.container import Services

    services = Services.build(settings)
    since = utcnow()
    try:
        async with transaction(services.db) as db:
            account = await ADMIN[args.command][1](db, args)
            assert account.id is not None
            ended = await sessions_ended_since(db, account.id, since)
        if ended:
            await services.broker.start()
            await services.revocations.announce(ended)
        state = "active" if account.active else "inactive"
        where = f", {account.department_code}" if account.department_code else ""
        print(f"{args.command}: {account.username} ({account.role}{where}, {state})")
        print(f"ended {len(ended)} session(s)")
    except ProblemsFound as exc:
        for problem in exc.problems:
            print(f"{problem.field}: {problem.message} ({problem.code})", file=sys.stderr)
        return 2
    finally:
        await services.close()
    return 0


async def _create_staff(args: argparse.Namespace, settings: Settings) -> int:
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass("密码: ")
    engine = create_engine(settings.database_url)
    try:
        async with transaction(session_factory(engine)) as db:
            account = await create_staff_account(
                db,
                load_reference_data(),
                username=args.username,
                password=password,
                role=StaffRole(args.role),
                department_code=args.department,
                display_name=args.name or "",
            )
            print(f"created staff account {account.username} ({account.role})")
    except ProblemsFound as exc:
        for problem in exc.problems:
            print(f"{problem.field}: {problem.message} ({problem.code})", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    return 0


async def _import_units(args: argparse.Namespace, settings: Settings) -> int:
    from integrations.unit_directory import import_units_csv

    engine = create_engine(settings.database_url)
    try:
        with open(args.file, encoding="utf-8-sig", newline="") as handle:  # noqa: ASYNC230 - a CLI
            report = await import_units_csv(session_factory(engine), handle)
    finally:
        await engine.dispose()
    print(f"imported {report.imported}, updated {report.updated}, rejected {len(report.rejected)}")
    for line, reason in report.rejected[:50]:
        print(f"  line {line}: {reason}", file=sys.stderr)
    return 0 if not report.rejected else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    staff = commands.add_parser(
        "create-staff", help="create a staff account (password from STAFF_PASSWORD or a prompt)"
    )
    staff.add_argument("username")
    staff.add_argument("--role", choices=[r.value for r in StaffRole], required=True)
    staff.add_argument("--department", help="department code (REVIEWER only), e.g. 330102")
    staff.add_argument("--name", help="display name")
    units = commands.add_parser(
        "import-units", help="import a unit directory CSV (credit_code,unit_name)"
    )
    units.add_argument("file")
    for command, (help_text, _) in ADMIN.items():
        admin = commands.add_parser(command, help=help_text)
        admin.add_argument("username")
        if command == "move-staff":
            admin.add_argument("--department", required=True, help="department code, e.g. 330106")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "create-staff":
        return asyncio.run(_create_staff(args, settings))
    if args.command in ADMIN:
        return asyncio.run(_administer(args, settings))
    return asyncio.run(_import_units(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
