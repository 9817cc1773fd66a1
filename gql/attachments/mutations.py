"""Uploading proofs: a presigned upload straight to storage, then a confirm that checks the file."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql.attachments.types import AttachmentType
from gql.context import Info
from gql.errors import FieldError, Refused, one_error, refused
from gql.permissions import APPLICANT
from gql.registration.types import Registration
from models.attachments import AttachmentKind
from models.db import utcnow
from models.errors import ErrorCode
from models.limits import MAX_CONTENT_TYPE, MAX_ID_INPUT, is_record_id
from models.registration_data import load_registration
from services.tokens import new_id
from storage.uploads import confirm_upload, request_upload


@strawberry.type
class FormField:
    name: str
    value: str


@strawberry.type(
    description="POST multipart/form-data to url: fields first, in order, then the file as `file`."
)
class UploadTicketType:
    id: strawberry.ID = strawberry.field(description="Send it to confirmAttachmentUpload")
    url: str
    fields: list[FormField]
    expires_at: datetime
    max_bytes: int


@strawberry.input
class RequestAttachmentUploadInput:
    registration_id: strawberry.ID
    kind: AttachmentKind
    content_type: str = strawberry.field(description="image/jpeg")
    byte_size: int = strawberry.field(description="Size of the file to upload, in bytes")


@strawberry.input
class ConfirmAttachmentUploadInput:
    upload_id: strawberry.ID


@strawberry.type
class RequestAttachmentUploadPayload:
    upload: UploadTicketType | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmAttachmentUploadPayload:
    attachment: AttachmentType | None = None
    registration: Registration | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


def _person_id(info: Info) -> int | None:
    principal = info.context.principal
    return principal.person_id if principal else None


@strawberry.type
class AttachmentMutation:
    @strawberry.mutation(
        permission_classes=APPLICANT,
        description="A presigned upload for one proof (JPEG) of a required kind.",
    )
    async def request_attachment_upload(
        self, info: Info, input: RequestAttachmentUploadInput
    ) -> RequestAttachmentUploadPayload:
        person_id = _person_id(info)
        if person_id is None:
            return RequestAttachmentUploadPayload(
                errors=one_error("", ErrorCode.IDENTITY_NOT_VERIFIED)
            )
        if len(input.registration_id) > MAX_ID_INPUT:
            return RequestAttachmentUploadPayload(
                errors=one_error("registrationId", ErrorCode.NOT_FOUND)
            )
        if not await info.context.services.upload_limiter.hit(str(person_id)):
            return RequestAttachmentUploadPayload(
                errors=one_error("registrationId", ErrorCode.TOO_MANY_ATTEMPTS)
            )
        requested = await refused(
            request_upload(
                info.context.db,
                info.context.services.storage,
                person_id=person_id,
                registration_id=str(input.registration_id),
                kind=input.kind,
                content_type=input.content_type[:MAX_CONTENT_TYPE],
                byte_size=input.byte_size,
                upload_id=new_id(),
                now=utcnow(),
                expires_in_s=info.context.settings.upload_expires_seconds,
            )
        )
        if isinstance(requested, Refused):
            return RequestAttachmentUploadPayload(errors=requested.errors)
        ticket = requested.ticket
        return RequestAttachmentUploadPayload(
            upload=UploadTicketType(
                id=strawberry.ID(requested.upload.id),
                url=ticket.url,
                fields=[FormField(name=n, value=v) for n, v in ticket.fields],
                expires_at=ticket.expires_at,
                max_bytes=ticket.max_bytes,
            )
        )

    @strawberry.mutation(
        permission_classes=APPLICANT,
        description="Check an uploaded file; it becomes the attachment of its kind.",
    )
    async def confirm_attachment_upload(
        self, info: Info, input: ConfirmAttachmentUploadInput
    ) -> ConfirmAttachmentUploadPayload:
        person_id = _person_id(info)
        services = info.context.services
        if person_id is None:
            return ConfirmAttachmentUploadPayload(
                errors=one_error("", ErrorCode.IDENTITY_NOT_VERIFIED)
            )
        if len(input.upload_id) > MAX_ID_INPUT:
            return ConfirmAttachmentUploadPayload(
                errors=one_error("uploadId", ErrorCode.UPLOAD_NOT_FOUND)
            )
        confirmed = await refused(
            confirm_upload(
                info.context.db,
                services.storage,
                person_id=person_id,
                upload_id=str(input.upload_id),
                attachment_id=new_id(),
                now=utcnow(),
            )
        )
        if isinstance(confirmed, Refused):
            return ConfirmAttachmentUploadPayload(
                registration=await _registration_of_upload(info, str(input.upload_id), person_id),
                errors=confirmed.errors,
            )
        await services.discard_files(confirmed.replaced_keys)
        return ConfirmAttachmentUploadPayload(
            attachment=await AttachmentType.of(confirmed.attachment, info),
            registration=Registration.of(confirmed.data, info.context.reference),
        )


async def _registration_of_upload(
    info: Info, upload_id: str, person_id: int
) -> Registration | None:
    from models.attachments import Upload

    if not is_record_id(upload_id):
        return None
    async with info.context.db() as db:
        upload = await db.get(Upload, upload_id)
        data = await load_registration(db, upload.registration_id) if upload else None
    if data is None or data.registration.person_id != person_id:
        return None
    return Registration.of(data, info.context.reference)
