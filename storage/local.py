"""Local-disk attachment storage: the embedded default.

It behaves like S3 towards the mini-program, so the client code is the same for both:

- :meth:`LocalDiskStorage.presign_upload` issues a browser-style POST policy shaped like
  S3's: ``policy`` is base64 of ``{"expiration": ..., "conditions": [["eq", "$key", key],
  {"Content-Type": ...}, ["content-length-range", min, max]]}``, and ``signature`` is the hex
  HMAC-SHA256 of that base64 text under a key derived from the secret. The client POSTs
  multipart/form-data to ``<base_url>/uploads`` with the ticket's fields first, in order, and
  the file last in the field ``file``.
- The endpoint (``storage.local_routes``) checks the form with :meth:`check_post_form` the
  moment the file part starts, caps the file at the policy's maximum while streaming, and
  answers with S3's status codes and XML error bodies; the object is written atomically
  (temporary file, fsync, rename) only when every condition held.
- :meth:`presign_download` gives ``<base_url>/files/<key>?expires=<unix>&signature=<hex>``,
  checked by :meth:`verify_download`.

Objects live under ``<root>/objects/<key>``; temporary files under ``<root>/tmp``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread

from models.link_signing import link_key, link_signature, signature_holds
from storage.base import (
    MAX_EXPIRES_IN_S,
    StorageError,
    StoredObject,
    UploadTicket,
    validate_content_type,
    validate_key,
    validate_prefix,
    validate_upload_limits,
)

#: S3 accepts at most 20 KB of form fields before the file.
MAX_PRE_FILE_BYTES = 20 * 1024
#: Requests announcing a bigger body are refused before a byte is read.
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
#: Form fields that never need a policy condition (as on S3).
_UNCONDITIONED_FIELDS = frozenset({"policy", "signature", "x-amz-signature", "file"})
_SUCCESS_STATUSES = frozenset({200, 201, 204})

_MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".pdf": "application/pdf",
}


class PostPolicyError(Exception):
    """A POST upload that S3 would refuse: ``status``, S3 error ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _policy_failed(detail: str) -> PostPolicyError:
    return PostPolicyError(403, "AccessDenied", f"Invalid according to Policy: {detail}")


@dataclass(frozen=True, slots=True)
class AcceptedPost:
    """A POST form whose policy, signature, expiry and field conditions all held."""

    key: str
    content_type: str
    min_bytes: int
    max_bytes: int
    success_status: int
    #: names the policy for single use (the hash of the policy document)
    policy_id: str = ""


def _iso_z(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _parse_iso_z(text: str) -> float:
    if not text.endswith("Z"):
        raise ValueError("expiration must be UTC with a trailing Z")
    return datetime.fromisoformat(text[:-1] + "+00:00").timestamp()


class LocalDiskStorage:
    """:class:`~storage.base.AttachmentStorage` on a local directory (see module docstring).

    ``base_url`` is the app's public origin plus any mount prefix, without a trailing slash
    (``https://api.example.org`` or ``http://127.0.0.1:8000``); the app mounts
    :func:`storage.local_routes.local_storage_routes` at that prefix. ``secret`` signs the
    policies and download URLs (at least 16 random bytes; keep it stable across workers and
    restarts, or the tickets in flight stop working).
    """

    def __init__(
        self,
        root: Path,
        base_url: str,
        secret: bytes,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("secret must be at least 16 bytes")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self.max_request_bytes = max_request_bytes
        self._clock = clock
        self._post_key = hmac.new(secret, b"local-storage/post-policy/v1", hashlib.sha256).digest()
        self._get_key = link_key(secret, "local-storage/get")
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"
        self._used = self.root / "used-policies"

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._make_dirs)

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> LocalDiskStorage:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _make_dirs(self) -> None:
        self._objects.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._used.mkdir(parents=True, exist_ok=True)
        # a policy cannot outlive MAX_EXPIRES_IN_S: older marks guard nothing any more
        horizon = self._clock() - MAX_EXPIRES_IN_S
        for mark in self._used.iterdir():
            if mark.stat().st_mtime < horizon:
                mark.unlink(missing_ok=True)

    def _claim_sync(self, signature: str) -> bool:
        self._used.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self._used / signature, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    async def claim_policy(self, accepted: AcceptedPost) -> bool:
        """Mark the policy of ``accepted`` used; False when a file was already POSTed with it.

        S3 lets a policy be used until it expires; here each one carries one file only.
        """
        try:
            return await anyio.to_thread.run_sync(self._claim_sync, accepted.policy_id)
        except OSError as exc:
            raise StorageError(f"cannot record the policy's use: {exc}") from exc

    # paths ---------------------------------------------------------------------------------

    def path_for(self, key: str) -> Path:
        """The file that holds ``key`` (validated, always inside ``<root>/objects``)."""
        return self._objects.joinpath(*validate_key(key).split("/"))

    # upload policies ------------------------------------------------------------------------

    def _sign_policy(self, policy_b64: str) -> str:
        return hmac.new(self._post_key, policy_b64.encode("ascii"), hashlib.sha256).hexdigest()

    async def presign_upload(
        self,
        key: str,
        *,
        content_type: str,
        min_bytes: int,
        max_bytes: int,
        expires_in_s: int,
    ) -> UploadTicket:
        validate_key(key)
        validate_content_type(content_type)
        validate_upload_limits(min_bytes, max_bytes, expires_in_s)
        expires_at = int(self._clock()) + expires_in_s
        policy = {
            "expiration": _iso_z(expires_at),
            "conditions": [
                ["eq", "$key", key],
                {"Content-Type": content_type},
                ["content-length-range", min_bytes, max_bytes],
            ],
        }
        policy_b64 = base64.b64encode(
            json.dumps(policy, separators=(",", ":")).encode("utf-8")
        ).decode("ascii")
        return UploadTicket(
            url=f"{self.base_url}/uploads",
            fields=[
                ("key", key),
                ("Content-Type", content_type),
                ("policy", policy_b64),
                ("signature", self._sign_policy(policy_b64)),
            ],
            key=key,
            expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
            max_bytes=max_bytes,
        )

    def check_post_form(self, fields: list[tuple[str, str]]) -> AcceptedPost:
        """Check the form fields that came before the file, as S3 does for a POST upload.

        Raises :class:`PostPolicyError` with S3's status and code: a missing ``key`` or
        ``signature`` (400 InvalidArgument), no ``policy`` (403 AccessDenied), a wrong
        signature (403 SignatureDoesNotMatch), then whatever :func:`evaluate_post_policy`
        refuses.
        """
        form = form_fields(fields)
        if "key" not in form:
            raise PostPolicyError(
                400, "InvalidArgument", "Bucket POST must contain a field named 'key'."
            )
        if "policy" not in form:
            raise PostPolicyError(403, "AccessDenied", "Access Denied")
        if "signature" not in form:
            raise PostPolicyError(
                400, "InvalidArgument", "Bucket POST must contain a field named 'signature'."
            )
        policy_b64 = form["policy"]
        signature = form["signature"].lower()
        if not (
            policy_b64.isascii()
            and signature.isascii()
            and hmac.compare_digest(self._sign_policy(policy_b64), signature)
        ):
            raise PostPolicyError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
            )
        accepted = evaluate_post_policy(policy_b64, form, now=self._clock())
        policy_id = hashlib.sha256(policy_b64.encode("ascii")).hexdigest()
        return dataclasses.replace(accepted, policy_id=policy_id)

    # downloads ---------------------------------------------------------------------------

    def _sign_download(self, key: str, expires: int) -> str:
        return link_signature(self._get_key, {"key": key, "expires": expires})

    async def presign_download(self, key: str, *, expires_in_s: int) -> str:
        validate_key(key)
        validate_upload_limits(0, 1, expires_in_s)
        expires = int(self._clock()) + expires_in_s
        signature = self._sign_download(key, expires)
        return f"{self.base_url}/files/{key}?expires={expires}&signature={signature}"

    def verify_download(self, key: str, expires: str, signature: str) -> None:
        """Raise :class:`PostPolicyError` (S3 codes) unless the signed GET is valid now."""
        try:
            validate_key(key)
            deadline = int(expires)
        except ValueError:
            raise PostPolicyError(
                403, "AccessDenied", "Query-string authentication is invalid."
            ) from None
        if not signature_holds(self._get_key, {"key": key, "expires": deadline}, signature):
            raise PostPolicyError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if self._clock() >= deadline:
            raise PostPolicyError(403, "AccessDenied", "Request has expired")

    @staticmethod
    def media_type_for(key: str) -> str:
        """The Content-Type served for ``key`` (by extension; unknown ones as a download)."""
        return _MEDIA_TYPES.get(os.path.splitext(key)[1].lower(), "application/octet-stream")

    # object operations ------------------------------------------------------------------------

    def _write_atomic_sync(self, key: str, data: bytes) -> None:
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    async def write_atomic(self, key: str, data: bytes) -> None:
        """Write ``data`` to ``key`` through a temporary file and a rename."""
        validate_key(key)
        try:
            await anyio.to_thread.run_sync(self._write_atomic_sync, key, data)
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc}") from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_content_type(content_type)
        await self.write_atomic(key, data)

    async def read(self, key: str) -> bytes | None:
        path = self.path_for(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc

    async def size(self, key: str) -> int | None:
        path = self.path_for(key)
        try:
            stat = await anyio.to_thread.run_sync(path.stat)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"cannot stat {key}: {exc}") from exc
        return stat.st_size if path.is_file() else None

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        try:
            await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
        except (IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from exc

    def _list_sync(self, prefix: str) -> list[StoredObject]:
        # Walk only the deepest directory the prefix names fully.
        directory = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._objects.joinpath(*directory.split("/")) if directory else self._objects
        found: list[StoredObject] = []
        if not start.is_dir():
            return found
        for dirpath, _dirnames, filenames in os.walk(start):
            for filename in filenames:
                path = Path(dirpath, filename)
                key = path.relative_to(self._objects).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                found.append(
                    StoredObject(
                        key=key,
                        size=stat.st_size,
                        modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                    )
                )
        found.sort(key=lambda item: item.key)
        return found

    async def list_keys(self, prefix: str) -> list[StoredObject]:
        validate_prefix(prefix)
        try:
            return await anyio.to_thread.run_sync(self._list_sync, prefix)
        except OSError as exc:
            raise StorageError(f"cannot list {prefix!r}: {exc}") from exc

    async def ping(self) -> bool:
        def check() -> bool:
            return self._objects.is_dir() and os.access(self._objects, os.W_OK)

        try:
            return await anyio.to_thread.run_sync(check)
        except OSError:
            return False


def form_fields(fields: list[tuple[str, str]]) -> dict[str, str]:
    """The POST form as a dict keyed by lower-cased field name; a repeated field is a 400."""
    form: dict[str, str] = {}
    for name, value in fields:
        lowered = name.lower()
        if lowered in form:
            raise PostPolicyError(
                400, "InvalidArgument", f"POST form field {name!r} appears more than once."
            )
        form[lowered] = value
    return form


def evaluate_post_policy(policy_b64: str, form: dict[str, str], *, now: float) -> AcceptedPost:
    """Apply an S3 POST policy (base64 JSON) to a form, the way S3 does after checking the
    signature: expiration, every ``eq``/``starts-with`` condition, no field that no
    condition names, a ``content-length-range``, a valid key. ``form`` comes from
    :func:`form_fields`. The file's size is checked by the caller against the returned
    ``min_bytes``/``max_bytes``. Works for S3's own policies too (tests use it for that).
    """
    policy = _decode_policy(policy_b64)
    if now >= policy.expires_at:
        raise _policy_failed("Policy expired.")
    covered: set[str] = set()
    length_range: tuple[int, int] | None = None
    for condition in policy.conditions:
        if condition.kind == "content-length-range":
            length_range = (condition.low, condition.high)
            continue
        covered.add(condition.field)
        given = form.get(condition.field)
        if condition.field == "bucket":
            continue  # the bucket is the URL's, not a form field
        if given is None:
            raise _policy_failed(f"Policy Condition failed: {condition.text}")
        if condition.kind == "eq" and given != condition.value:
            raise _policy_failed(f"Policy Condition failed: {condition.text}")
        if condition.kind == "starts-with" and not given.startswith(condition.value):
            raise _policy_failed(f"Policy Condition failed: {condition.text}")
    extra = [
        name
        for name in form
        if name not in covered
        and name not in _UNCONDITIONED_FIELDS
        and not name.startswith("x-ignore-")
    ]
    if extra:
        raise _policy_failed(f"Extra input fields: {', '.join(extra)}")
    if length_range is None:
        raise PostPolicyError(
            400, "InvalidPolicyDocument", "Invalid Policy: no content-length-range."
        )
    try:
        key = validate_key(form["key"])
    except (KeyError, ValueError) as exc:
        raise PostPolicyError(400, "InvalidArgument", f"Invalid key: {exc}") from None
    status = 204
    if "success_action_status" in form:
        try:
            wanted = int(form["success_action_status"])
        except ValueError:
            wanted = 204
        status = wanted if wanted in _SUCCESS_STATUSES else 204
    return AcceptedPost(
        key=key,
        content_type=form.get("content-type", "binary/octet-stream"),
        min_bytes=length_range[0],
        max_bytes=length_range[1],
        success_status=status,
    )


@dataclass(frozen=True, slots=True)
class _Condition:
    kind: str  # "eq" | "starts-with" | "content-length-range"
    field: str  # lower-cased form field name
    value: str
    low: int
    high: int
    text: str  # as S3 quotes it in the error message


@dataclass(frozen=True, slots=True)
class _Policy:
    expires_at: float
    conditions: list[_Condition]


def _invalid_policy(detail: str) -> PostPolicyError:
    return PostPolicyError(400, "InvalidPolicyDocument", f"Invalid Policy: {detail}")


def _decode_policy(policy_b64: str) -> _Policy:
    try:
        raw: Any = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("conditions"), list):
        raise _invalid_policy("Policy must have 'expiration' and 'conditions'.")
    try:
        expires_at = _parse_iso_z(str(raw["expiration"]))
    except (KeyError, ValueError):
        raise _invalid_policy("Invalid 'expiration'.") from None
    conditions: list[_Condition] = []
    for item in raw["conditions"]:
        text = json.dumps(item, ensure_ascii=False)
        if isinstance(item, dict) and len(item) == 1:
            ((name, value),) = item.items()
            conditions.append(_Condition("eq", str(name).lower(), str(value), 0, 0, text))
        elif isinstance(item, list) and len(item) == 3 and item[0] == "content-length-range":
            low, high = item[1], item[2]
            if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
                raise _invalid_policy(f"Invalid content-length-range {text}.")
            conditions.append(_Condition("content-length-range", "", "", low, high, text))
        elif (
            isinstance(item, list)
            and len(item) == 3
            and item[0] in ("eq", "starts-with")
            and isinstance(item[1], str)
            and item[1].startswith("$")
        ):
            conditions.append(_Condition(item[0], item[1][1:].lower(), str(item[2]), 0, 0, text))
        else:
            raise _invalid_policy(f"Unknown condition {text}.")
    return _Policy(expires_at=expires_at, conditions=conditions)
