"""Attachment storage: one interface, an S3 implementation (aioboto3, presigned POST) and a
local-disk implementation (signed POST policies and signed GETs served by the app), plus the
Pillow checks that every uploaded file goes through.

Import the implementations from their modules (``storage.s3``, ``storage.local``) so that
the app pays for aioboto3 only when it uses S3.
"""

from storage.base import (
    AttachmentStorage,
    InvalidKey,
    StorageError,
    StoredObject,
    UploadTicket,
    validate_key,
)

__all__ = [
    "AttachmentStorage",
    "InvalidKey",
    "StorageError",
    "StoredObject",
    "UploadTicket",
    "validate_key",
]
