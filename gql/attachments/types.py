"""Attachments as clients read them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql.errors import ErrorCode, FieldError
from models.attachments import Attachment
from models.attachments import AttachmentKind as DomainAttachmentKind


@strawberry.type(name="Attachment", description="A checked proof file of one kind.")
class AttachmentType:
    id: strawberry.ID
    kind: DomainAttachmentKind
    status: str = strawberry.field(
        description="ACCEPTED: the file passed the blocking checks; problems lists advice"
    )
    width: int
    height: int
    byte_size: int
    created_at: datetime
    preview_url: str | None = strawberry.field(
        description="Short-lived signed URL of the thumbnail"
    )
    url: str | None = strawberry.field(description="Short-lived signed URL of the file")
    problems: list[FieldError] = strawberry.field(
        description="Advisory findings (e.g. PHOTO_BACKGROUND): upload again, or the reviewer checks"
    )

    @classmethod
    async def of(cls, row: Attachment, info: strawberry.Info) -> AttachmentType:
        links = await info.context.services.attachment_links(row)
        return cls(
            id=strawberry.ID(row.id),
            kind=DomainAttachmentKind(row.kind),
            status="ACCEPTED",
            width=row.width,
            height=row.height,
            byte_size=row.byte_size,
            created_at=row.created_at,
            preview_url=links[1],
            url=links[0],
            problems=[
                FieldError(
                    field=f"attachments.{row.kind}", code=ErrorCode(p["code"]), message=p["message"]
                )
                for p in row.problems
            ],
        )
