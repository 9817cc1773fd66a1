"""Build the attachment storage from the settings: local disk by default, S3/OSS in production."""

from __future__ import annotations

import hashlib

from config.settings import Settings
from storage.base import AttachmentStorage
from storage.local import LocalDiskStorage
from storage.s3 import S3Storage


def from_settings(settings: Settings) -> AttachmentStorage:
    if settings.storage_backend == "s3":
        return S3Storage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id.get_secret_value(),
            secret_access_key=settings.s3_secret_access_key.get_secret_value(),
            public_endpoint_url=settings.s3_public_endpoint_url or None,
            addressing_style=settings.s3_addressing_style,
        )
    secret = hashlib.sha256(b"local-storage:" + settings.secret_key.get_secret_value().encode())
    return LocalDiskStorage(settings.storage_local_root, settings.base_url, secret.digest())
