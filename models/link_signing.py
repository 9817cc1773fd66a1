"""Signed, expiring links: one scheme for every link whose signature is its own permission.

A link carries its claims (what it grants, and ``expires`` in unix seconds) in the clear and a
hex HMAC-SHA256 of them under a key derived for one purpose, so a link made for a CSV export can
never be replayed as a file download. Used by the local storage's download links, the proof
templates and the CSV exports; the local storage's upload *policy* follows S3's POST format
instead, because clients send it exactly as they would to S3.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping


def link_key(secret: bytes | str, purpose: str) -> bytes:
    """The key of one kind of link, derived from the service secret."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, f"signed-link/{purpose}".encode(), hashlib.sha256).digest()


def link_signature(key: bytes, claims: Mapping[str, str | int]) -> str:
    """The signature of ``claims``: canonical JSON, so no value can pose as another claim."""
    canonical = json.dumps(sorted((name, str(value)) for name, value in claims.items()))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def signature_holds(key: bytes, claims: Mapping[str, str | int], signature: str) -> bool:
    """Whether ``signature`` was made by :func:`link_signature` for exactly these claims."""
    if not signature.isascii():
        return False
    return hmac.compare_digest(link_signature(key, claims), signature.lower())
