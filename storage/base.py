"""The attachment-storage interface shared by the S3 and local-disk implementations.

Applicants upload straight to storage with a presigned browser-style POST (what Alipay's
``my.uploadFile`` sends: multipart/form-data, the ticket's ``fields`` first, in order, then the
file in the field ``file``). The server then reads the object back, checks it with Pillow
(``storage.image_checks``) and stores the cleaned copy under its final key.

Keys are chosen by the caller, e.g. ``pending/<registration>/<upload-id>.jpg`` or
``attachments/<registration>/<kind>/<id>.jpg``; every implementation validates them with
:func:`validate_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

MAX_KEY_LENGTH = 512
#: Presigned URLs live at most this long (S3's own limit for SigV4 is 7 days).
MAX_EXPIRES_IN_S = 7 * 24 * 3600

_KEY_CHARS = re.compile(r"[A-Za-z0-9/_.-]+")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")


class StorageError(RuntimeError):
    """The storage backend failed (network, permissions, disk); not a user's mistake."""


class InvalidKey(ValueError):
    """A key that no implementation accepts (see :func:`validate_key`)."""


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, else raise :class:`InvalidKey`.

    Allowed: ``[A-Za-z0-9/_.-]``, at most :data:`MAX_KEY_LENGTH` characters, no ``..``, no
    leading or trailing ``/``, no empty or ``.`` segments (so a key maps to exactly one file
    under the local root and to the same name on S3).
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("empty key")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey("key too long")
    if not _KEY_CHARS.fullmatch(key):
        raise InvalidKey("key has characters outside [A-Za-z0-9/_.-]")
    if ".." in key:
        raise InvalidKey("key contains '..'")
    if key.startswith("/") or key.endswith("/"):
        raise InvalidKey("key starts or ends with '/'")
    if any(part in ("", ".") for part in key.split("/")):
        raise InvalidKey("key has an empty or '.' segment")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it may be listed: empty, or a valid key optionally ending in '/'."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def validate_content_type(content_type: str) -> str:
    """Return ``content_type`` if it is a bare ``type/subtype`` token, else raise ValueError."""
    if not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError(f"invalid content type {content_type!r}")
    return content_type


def validate_upload_limits(min_bytes: int, max_bytes: int, expires_in_s: int) -> None:
    if not 0 <= min_bytes <= max_bytes:
        raise ValueError("need 0 <= min_bytes <= max_bytes")
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    if not 1 <= expires_in_s <= MAX_EXPIRES_IN_S:
        raise ValueError(f"expires_in_s must be within 1..{MAX_EXPIRES_IN_S}")


@dataclass(frozen=True, slots=True)
class UploadTicket:
    """What the client needs for one direct upload.

    POST multipart/form-data to ``url`` with ``fields`` first, in this order, then the file
    as the last part, named ``file``. The policy behind it pins ``key``, the content type
    and the size range ``[min_bytes, max_bytes]``, and expires at ``expires_at`` (UTC).
    """

    url: str
    fields: list[tuple[str, str]]
    key: str
    expires_at: datetime
    max_bytes: int


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    modified_at: datetime


@runtime_checkable
class AttachmentStorage(Protocol):
    """Where attachments live. All methods validate keys; backend failures raise StorageError."""

    async def start(self) -> None:
        """Open long-lived resources (clients, directories). Call once at app start-up."""
        ...

    async def aclose(self) -> None:
        """Release what :meth:`start` opened. Safe to call twice."""
        ...

    async def presign_upload(
        self,
        key: str,
        *,
        content_type: str,
        min_bytes: int,
        max_bytes: int,
        expires_in_s: int,
    ) -> UploadTicket:
        """A browser-style POST policy that accepts exactly this key, type and size range."""
        ...

    async def read(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        ...

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any earlier object."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        ...

    async def list_keys(self, prefix: str) -> list[StoredObject]:
        """Every object whose key starts with ``prefix``, sorted by key."""
        ...

    async def presign_download(self, key: str, *, expires_in_s: int) -> str:
        """A URL that GETs the object until it expires, without other credentials."""
        ...

    async def ping(self) -> bool:
        """True when the backend answers (for health checks); never raises."""
        ...
