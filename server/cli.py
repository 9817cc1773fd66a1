"""Operator commands: ``python -m server.cli create-staff …``, ``python -m server.cli import-units FILE.csv``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from config.settings import Settings
from models.accounts import StaffRole
from models.db import create_engine, session_factory, transaction
from models.errors import ProblemsFound
from models.reference import load_reference_data
from services.staff import create_staff_account


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


async def _deactivate_staff(args: argparse.Namespace, settings: Settings) -> int:
    """Switch the account off; its open sockets on every worker close (over the broker)."""
    from models.clock import utcnow
    from services.container import Services
    from services.sessions import deactivate_staff

    services = Services.build(settings)
    try:
        async with transaction(services.db) as db:
            revoked = await deactivate_staff(db, args.username, now=utcnow())
        if revoked is None:
            print(f"no staff account {args.username}", file=sys.stderr)
            return 2
        await services.broker.start()
        await services.revocations.announce(revoked)
        print(f"deactivated {args.username}; revoked {len(revoked)} session(s)")
    finally:
        await services.close()
    return 0


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
    deactivate = commands.add_parser(
        "deactivate-staff", help="switch a staff account off and revoke its sessions"
    )
    deactivate.add_argument("username")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "create-staff":
        return asyncio.run(_create_staff(args, settings))
    if args.command == "deactivate-staff":
        return asyncio.run(_deactivate_staff(args, settings))
    return asyncio.run(_import_units(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
