"""Attachment uploads end to end: a presigned upload under a pending key, then a confirm that
checks the file with Pillow and moves the cleaned copy into place as the attachment of its kind.

Rules: only the owner, only while the registration is editable (and, when it was returned,
only for a kind the reviewer reopened), only a kind the answers require, JPEG only, within the
kind's size bounds. Files are never trusted until checked; a replaced file is deleted; a
pending upload never confirmed expires and is swept away.

A policy's size range is exactly the declared ``byteSize``; a registration has at most
``MAX_PENDING_UPLOADS`` live policies at a time. Storage may accept a policy more than once
until it expires (S3 does), so once a policy has expired the sweep deletes its pending key
whatever became of the upload: a file sent again after the confirm does not stay.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio
from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.attachments import Attachment, AttachmentKind, Upload, UploadStatus
from models.db import SessionFactory, transaction
from models.errors import ErrorCode, FieldProblem, ProblemsFound, size_limit_message
from models.limits import is_record_id
from models.registration import EDITABLE_STATUSES, Registration, Status
from models.registration_data import RegistrationData, load_registration
from storage import image_checks
from storage.base import AttachmentStorage, UploadTicket

JPEG = "image/jpeg"
ACCEPTED_CONTENT_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
#: a pending upload is kept this long past its policy's expiry before it is swept
SWEEP_GRACE = timedelta(minutes=30)
#: live (unexpired, unconfirmed) upload policies one registration may hold
MAX_PENDING_UPLOADS = 3


def size_bounds(kind: AttachmentKind) -> tuple[int, int]:
    if kind is AttachmentKind.ID_PHOTO:
        return image_checks.PHOTO_MIN_BYTES, image_checks.PHOTO_MAX_BYTES
    return image_checks.DOCUMENT_MIN_BYTES, image_checks.DOCUMENT_MAX_BYTES


def _fail(path: str, code: ErrorCode) -> ProblemsFound:
    return ProblemsFound([FieldProblem(path, code)])


def _may_change_kind(registration: Registration, kind: AttachmentKind) -> bool:
    if registration.status != Status.RETURNED:
        return True
    return any(r in ("attachments", f"attachments.{kind.value}") for r in registration.reopened)


def _check_target(data: RegistrationData, person_id: int, kind: AttachmentKind, path: str) -> None:
    registration = data.registration
    if registration.person_id != person_id:
        raise _fail("registrationId", ErrorCode.NOT_FOUND)
    if registration.status not in EDITABLE_STATUSES:
        raise _fail("registrationId", ErrorCode.NOT_EDITABLE)
    if not _may_change_kind(registration, kind) and data.attachment(kind) is not None:
        # a kind the reviewer did not flag stays; a newly required kind may still be added
        raise _fail(path, ErrorCode.FIELD_FROZEN)
    if kind not in data.required_kinds():
        raise _fail(path, ErrorCode.ATTACHMENT_NOT_REQUIRED)


async def _check_pending_count(session: AsyncSession, registration_id: str, now: datetime) -> None:
    # the registration's row lock (PostgreSQL) / the write lock (SQLite) serialises requests
    await session.exec(
        update(Registration)
        .where(col(Registration.id) == registration_id)
        .values(updated_at=Registration.updated_at)
    )
    live = (
        await session.exec(
            select(func.count())
            .select_from(Upload)
            .where(
                Upload.registration_id == registration_id,
                Upload.status == UploadStatus.PENDING,
                col(Upload.expires_at) > now,
            )
        )
    ).one()
    if live >= MAX_PENDING_UPLOADS:
        raise _fail("registrationId", ErrorCode.TOO_MANY_PENDING_UPLOADS)


@dataclass
class RequestedUpload:
    upload: Upload
    ticket: UploadTicket


async def request_upload(
    db: SessionFactory,
    storage: AttachmentStorage,
    *,
    person_id: int,
    registration_id: str,
    kind: AttachmentKind,
    content_type: str,
    byte_size: int,
    upload_id: str,
    now: datetime,
    expires_in_s: int,
) -> RequestedUpload:
    path = f"attachments.{kind.value}"
    if content_type.strip().lower() not in ACCEPTED_CONTENT_TYPES:
        raise _fail("contentType", ErrorCode.CONTENT_TYPE_NOT_ALLOWED)
    low, high = size_bounds(kind)
    for wrong, code, limit in (
        (byte_size > high, ErrorCode.FILE_TOO_LARGE, high),
        (byte_size < low, ErrorCode.FILE_TOO_SMALL, low),
    ):
        if wrong:
            raise ProblemsFound([FieldProblem("byteSize", code, size_limit_message(code, limit))])
    async with transaction(db) as session:
        data = await load_registration(session, registration_id)
        if data is None:
            raise _fail("registrationId", ErrorCode.NOT_FOUND)
        _check_target(data, person_id, kind, path)
        await _check_pending_count(session, registration_id, now)
        upload = Upload(
            id=upload_id,
            registration_id=registration_id,
            kind=kind,
            pending_key=f"pending/{registration_id}/{upload_id}.jpg",
            content_type=JPEG,
            declared_bytes=byte_size,
            max_bytes=byte_size,
            created_at=now,
            expires_at=now + timedelta(seconds=expires_in_s),
        )
        session.add(upload)
        ticket = await storage.presign_upload(
            upload.pending_key,
            content_type=JPEG,
            min_bytes=byte_size,  # the policy admits exactly the declared size
            max_bytes=byte_size,
            expires_in_s=expires_in_s,
        )
    return RequestedUpload(upload, ticket)


@dataclass
class ConfirmedUpload:
    data: RegistrationData
    attachment: Attachment
    #: files of the attachment it replaced, deleted after the commit
    replaced_keys: list[str] = field(default_factory=list)


async def _load_upload(
    db: SessionFactory, upload_id: str, person_id: int
) -> tuple[Upload, RegistrationData]:
    if not is_record_id(upload_id):
        raise _fail("uploadId", ErrorCode.UPLOAD_NOT_FOUND)
    async with db() as session:
        upload = await session.get(Upload, upload_id)
        data = await load_registration(session, upload.registration_id) if upload else None
    if upload is None or data is None or data.registration.person_id != person_id:
        raise _fail("uploadId", ErrorCode.UPLOAD_NOT_FOUND)  # someone else's looks missing
    return upload, data


async def _reject(
    db: SessionFactory, storage: AttachmentStorage, upload: Upload, problems: list[FieldProblem]
) -> None:
    async with transaction(db) as session:
        row = await session.get(Upload, upload.id)
        if row is not None and row.status == UploadStatus.PENDING:
            row.status = UploadStatus.REJECTED
            row.problems = [{"code": p.code.value, "message": p.message} for p in problems]
            session.add(row)
    await storage.delete(upload.pending_key)


async def confirm_upload(
    db: SessionFactory,
    storage: AttachmentStorage,
    *,
    person_id: int,
    upload_id: str,
    attachment_id: str,
    now: datetime,
) -> ConfirmedUpload:
    upload, data = await _load_upload(db, upload_id, person_id)
    kind = AttachmentKind(upload.kind)
    path = f"attachments.{kind.value}"
    if upload.status == UploadStatus.CONFIRMED:
        await storage.delete(upload.pending_key)  # a file sent again with the spent policy
        raise _fail("uploadId", ErrorCode.UPLOAD_ALREADY_CONFIRMED)
    if upload.status != UploadStatus.PENDING:
        code = (
            ErrorCode.UPLOAD_EXPIRED
            if upload.status == UploadStatus.EXPIRED
            else ErrorCode.UPLOAD_NOT_FOUND
        )
        raise _fail("uploadId", code)
    _check_target(data, person_id, kind, path)
    content = await storage.read(upload.pending_key)
    if content is None:
        if upload.expires_at <= now:
            raise _fail("uploadId", ErrorCode.UPLOAD_EXPIRED)
        raise _fail("uploadId", ErrorCode.UPLOAD_NOT_RECEIVED)
    if len(content) > upload.declared_bytes:
        # sent, but not the file announced (a different photo, or one edited after the request)
        await _reject(db, storage, upload, [FieldProblem(path, ErrorCode.FILE_SIZE_MISMATCH)])
        raise _fail(path, ErrorCode.FILE_SIZE_MISMATCH)
    check = (
        image_checks.check_photo if kind is AttachmentKind.ID_PHOTO else image_checks.check_document
    )
    if len(content) != upload.declared_bytes:  # a storage that ignored the policy's range
        problem = FieldProblem(path, ErrorCode.FILE_CORRUPT)
        await _reject(db, storage, upload, [problem])
        raise ProblemsFound([problem])
    result = await anyio.to_thread.run_sync(check, content)
    if result.blocking or result.cleaned is None:
        problems = [
            FieldProblem(path, p.code, p.message)
            for p in result.problems
            if p.code in image_checks.BLOCKING_CODES
        ] or [FieldProblem(path, ErrorCode.FILE_CORRUPT)]
        await _reject(db, storage, upload, problems)
        raise ProblemsFound(problems)
    final_key = f"attachments/{data.id}/{kind.value}/{attachment_id}.jpg"
    thumb_key = (
        f"attachments/{data.id}/{kind.value}/{attachment_id}_thumb.jpg"
        if result.thumbnail
        else None
    )
    await storage.put(final_key, result.cleaned, JPEG)
    if thumb_key and result.thumbnail:
        await storage.put(thumb_key, result.thumbnail, JPEG)
    try:
        confirmed = await _record(
            db,
            upload,
            data.id,
            person_id,
            kind,
            path,
            attachment_id,
            final_key,
            thumb_key,
            result,
            now,
        )
    except BaseException:
        for key in (final_key, thumb_key):
            if key:
                await storage.delete(key)
        raise
    await storage.delete(upload.pending_key)
    return confirmed


async def _record(
    db: SessionFactory,
    upload: Upload,
    registration_id: str,
    person_id: int,
    kind: AttachmentKind,
    path: str,
    attachment_id: str,
    final_key: str,
    thumb_key: str | None,
    result: image_checks.ImageCheck,
    now: datetime,
) -> ConfirmedUpload:
    async with transaction(db) as session:
        # the row lock (PostgreSQL) or the write lock (SQLite) serialises confirms of one registration
        await session.exec(
            update(Registration)
            .where(col(Registration.id) == registration_id)
            .values(version=Registration.version + 1, updated_at=now)
        )
        row = await session.get(Upload, upload.id, with_for_update=True)
        if row is None or row.status != UploadStatus.PENDING:
            raise _fail("uploadId", ErrorCode.UPLOAD_ALREADY_CONFIRMED)
        data = await load_registration(session, registration_id)
        assert data is not None
        _check_target(data, person_id, kind, path)
        replaced_keys: list[str] = []
        current = data.attachment(kind)
        if current is not None:
            source = await session.get(Upload, current.upload_id) if current.upload_id else None
            if source is not None and source.created_at > upload.created_at:
                raise _fail("uploadId", ErrorCode.UPLOAD_SUPERSEDED)  # a newer upload already won
            current.replaced_at = now
            session.add(current)
            await session.flush()
            data.attachments.remove(current)
            replaced_keys = [k for k in (current.storage_key, current.thumbnail_key) if k]
        cleaned = result.cleaned or b""
        attachment = Attachment(
            id=attachment_id,
            registration_id=registration_id,
            kind=kind,
            upload_id=upload.id,
            storage_key=final_key,
            thumbnail_key=thumb_key,
            width=result.width,
            height=result.height,
            byte_size=len(cleaned),
            sha256=hashlib.sha256(cleaned).hexdigest(),
            problems=[{"code": p.code.value, "message": p.message} for p in result.problems],
            created_at=now,
        )
        session.add(attachment)
        row.status = UploadStatus.CONFIRMED
        row.attachment_id = attachment_id
        session.add(row)
        await session.flush()
        data.attachments.append(attachment)
        await session.refresh(data.registration)
    return ConfirmedUpload(data, attachment, replaced_keys)


async def sweep_expired_uploads(
    db: SessionFactory, storage: AttachmentStorage, now: datetime
) -> int:
    """Expire pending uploads past their policy (plus a grace period) and delete their files;
    delete the pending key of every upload whose policy has expired since, confirmed or not,
    so a file POSTed again with a spent policy is removed. The number of uploads expired."""
    cutoff = now - SWEEP_GRACE
    async with transaction(db) as session:
        rows = (
            await session.exec(
                select(Upload)
                .where(
                    col(Upload.pending_cleared).is_(False),
                    col(Upload.expires_at) < cutoff,
                )
                .limit(500)
            )
        ).all()
        expired = 0
        for row in rows:
            if row.status == UploadStatus.PENDING:
                row.status = UploadStatus.EXPIRED
                expired += 1
            row.pending_cleared = True
            session.add(row)
        keys = [row.pending_key for row in rows]
    for key in keys:
        await storage.delete(key)
    return expired
