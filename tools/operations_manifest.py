"""Write operations/manifest.json: every trusted document's id (``sha256:`` + hex digest of the
file's exact UTF-8 bytes) mapped to its text. ``python -m tools.operations_manifest``
(``make operations``); ``--check`` exits 1 when the manifest is stale."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gql.trusted_documents import MANIFEST, OPERATIONS_DIR, document_id


def build(directory: Path = OPERATIONS_DIR) -> dict[str, str]:
    documents: dict[str, str] = {}
    for path in sorted(directory.glob("*.graphql")):
        text = path.read_bytes().decode("utf-8")
        documents[document_id(text)] = text
    return documents


def render(documents: dict[str, str]) -> str:
    return json.dumps(documents, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render(build())
    if "--check" in argv:
        current = MANIFEST.read_text(encoding="utf-8") if MANIFEST.exists() else ""
        if current != text:
            print("operations/manifest.json is stale: run `make operations`", file=sys.stderr)
            return 1
        return 0
    MANIFEST.write_text(text, encoding="utf-8")
    print(f"{MANIFEST}: {text.count('sha256:')} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
