"""python -m tools.seed --count N: the command line of :mod:`tools.seed`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

import tools.seed
from config.settings import Settings
from tools.seed.run import seed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.seed", description=(tools.seed.__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--count", type=int, required=True, help="registrations to add")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--days", type=int, default=730, help="spread over the last DAYS days")
    args = parser.parse_args(argv)
    if args.count < 0 or args.days < 1:
        parser.error("--count must be >= 0 and --days >= 1")
    url = args.database_url or Settings().database_url
    report = asyncio.run(seed(url, args.count, rng_seed=args.seed, days=args.days, progress=print))
    print(
        f"seeded {report.registrations:,} registrations ({report.rows:,} rows) in "
        f"{report.load_seconds:.1f} s, statistics rebuilt in {report.aggregate_seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
