"""Write the public contract to schema.graphql: ``python -m tools.export_schema [--check]``."""

from __future__ import annotations

import sys
from pathlib import Path

from gql.schema import export_sdl

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def main() -> int:
    sdl = export_sdl()
    if "--check" in sys.argv:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text(encoding="utf-8") != sdl:
            print("schema.graphql is stale: run `make schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.write_text(sdl, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
