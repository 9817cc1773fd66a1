"""Run every benchmark in turn: ``make bench`` (or ``python -m tools.bench.run_all [name …]``).

Each benchmark is its own module with its own options; run one alone for more control, e.g.
``python -m tools.bench.bench_wizard --applicants 500 --postgres``. Not tests: they print numbers.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS: dict[str, list[str]] = {
    "photo": ["tools.bench.bench_photo_check"],
    "wizard": ["tools.bench.bench_wizard", "--applicants", "200", "--postgres"],
    "stats": ["tools.bench.bench_stats"],
    "subscriptions": ["tools.bench.bench_subscriptions"],
    "requests": ["tools.bench.bench_requests"],
}


def main() -> int:
    chosen = sys.argv[1:] or list(BENCHMARKS)
    failed = []
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", *BENCHMARKS[name]], check=False)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
