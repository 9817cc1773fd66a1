"""S3 (and S3-compatible: MinIO, OSS's S3 endpoint) attachment storage on aioboto3.

One aioboto3 client per instance does every network call; it is opened by :meth:`start`
and closed by :meth:`close` (or use the instance as an async context manager).

Presigning never touches the network. It is done by a plain botocore client configured
with ``public_endpoint_url`` (the address the phone reaches, e.g. behind a CDN or a
public domain) when that differs from ``endpoint_url`` (the address the server reaches,
e.g. an internal endpoint): a SigV4 GET signature covers the host, so the URL must be
signed for the host the client will call.

The upload ticket is a presigned POST whose policy pins the exact key (``{"key": ...}``),
``{"Content-Type": ...}``, ``["content-length-range", min, max]``, the bucket and a short
expiration; S3 enforces them and answers 204 on success, 403 AccessDenied for a violated
policy and 400 EntityTooSmall/EntityTooLarge for the size.

Aliyun OSS: its S3-compatible endpoint serves the server-side calls with
``signature_version="s3"`` and ``addressing_style="virtual"``; an OSS-native PostObject
signer is not part of this class (protocols.md section 7.4).
"""

from __future__ import annotations

import asyncio
import base64
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, Literal

import aioboto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.base import (
    StorageError,
    StoredObject,
    UploadTicket,
    validate_content_type,
    validate_key,
    validate_prefix,
    validate_upload_limits,
)

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


def _error_code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code", ""))


class S3Storage:
    """:class:`~storage.base.AttachmentStorage` on an S3 bucket (see the module docstring)."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        public_endpoint_url: str | None = None,
        addressing_style: Literal["path", "virtual"] = "path",
        *,
        session_token: str | None = None,
        signature_version: str = "s3v4",
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        max_pool_connections: int = 32,
        max_attempts: int = 3,
        ping_timeout_s: float = 2.0,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.public_endpoint_url = public_endpoint_url or endpoint_url
        self.region = region
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._session_token = session_token
        self._config = Config(
            region_name=region,
            signature_version=signature_version,
            s3={"addressing_style": addressing_style},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=max_pool_connections,
            # S3-compatible servers (OSS, older MinIO) reject the default CRC trailers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._ping_timeout_s = ping_timeout_s
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._presigner: Any = None

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._client is not None:
            return
        stack = AsyncExitStack()
        session = aioboto3.Session(
            aws_access_key_id=self._access_key_id,
            aws_secret_access_key=self._secret_access_key,
            aws_session_token=self._session_token,
            region_name=self.region,
        )
        try:
            self._client = await stack.enter_async_context(
                session.client("s3", endpoint_url=self.endpoint_url, config=self._config)
            )
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        self._presigner = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.public_endpoint_url,
            config=self._config,
            aws_access_key_id=self._access_key_id,
            aws_secret_access_key=self._secret_access_key,
            aws_session_token=self._session_token,
        )

    async def aclose(self) -> None:
        stack, self._stack = self._stack, None
        self._client = None
        if self._presigner is not None:
            self._presigner.close()
            self._presigner = None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> S3Storage:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _require_client(self) -> Any:
        if self._client is None:
            raise StorageError("S3Storage is not started; call start() first")
        return self._client

    # presigning (no network) --------------------------------------------------------------

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
        self._require_client()
        post = self._presigner.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", min_bytes, max_bytes],
            ],
            ExpiresIn=expires_in_s,
        )
        fields: dict[str, str] = dict(post["fields"])
        ordered = [("key", fields.pop("key"))]
        ordered.extend(fields.items())
        policy = json.loads(base64.b64decode(fields["policy"]))
        expires_at = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC
        )
        return UploadTicket(
            url=post["url"], fields=ordered, key=key, expires_at=expires_at, max_bytes=max_bytes
        )

    async def presign_download(self, key: str, *, expires_in_s: int) -> str:
        validate_key(key)
        validate_upload_limits(0, 1, expires_in_s)
        self._require_client()
        url: str = self._presigner.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=expires_in_s,
        )
        return url

    # object operations ------------------------------------------------------------------

    async def read(self, key: str) -> bytes | None:
        validate_key(key)
        client = self._require_client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=key)
            async with response["Body"] as body:
                data: bytes = await body.read()
                return data
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise StorageError(f"S3 get_object {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 get_object {key}: {exc}") from exc

    async def size(self, key: str) -> int | None:
        validate_key(key)
        client = self._require_client()
        try:
            response = await client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise StorageError(f"S3 head_object {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 head_object {key}: {exc}") from exc
        return int(response["ContentLength"])

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        validate_content_type(content_type)
        client = self._require_client()
        try:
            await client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"S3 put_object {key}: {exc}") from exc

    async def delete(self, key: str) -> None:
        validate_key(key)
        client = self._require_client()
        try:
            await client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return
            raise StorageError(f"S3 delete_object {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 delete_object {key}: {exc}") from exc

    async def list_keys(self, prefix: str, *, page_size: int = 1000) -> list[StoredObject]:
        """Every object under ``prefix``, following S3's pages (``page_size`` keys each)."""
        validate_prefix(prefix)
        client = self._require_client()
        found: list[StoredObject] = []
        try:
            paginator = client.get_paginator("list_objects_v2")
            pages = paginator.paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
            )
            async for page in pages:
                for item in page.get("Contents", []):
                    modified = item["LastModified"]
                    found.append(
                        StoredObject(
                            key=str(item["Key"]),
                            size=int(item["Size"]),
                            modified_at=modified.astimezone(UTC),
                        )
                    )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"S3 list_objects_v2 {prefix!r}: {exc}") from exc
        found.sort(key=lambda item: item.key)
        return found

    async def ping(self) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            async with asyncio.timeout(self._ping_timeout_s):
                await client.head_bucket(Bucket=self.bucket)
        except Exception:  # any failure, including the timeout, means "not ready"
            return False
        return True
