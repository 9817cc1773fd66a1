"""Template downloads for the two employer proofs (开始/现会计工作单位证明)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import strawberry

from gql.context import Info
from gql.errors import FieldError, one_error
from gql.permissions import APPLICANT
from models.attachments import AttachmentKind
from models.errors import ErrorCode
from models.limits import MAX_ID_INPUT
from models.registration_data import load_registration
from services.signed_links import PROOF_KINDS, template_link

LINK_SECONDS = 600


@strawberry.type
class TemplateLink:
    url: str | None = None
    expires_at: datetime | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type
class AttachmentQuery:
    @strawberry.field(
        permission_classes=APPLICANT,
        description="A printable proof template pre-filled for this applicant; the link expires",
    )
    async def proof_template(
        self, info: Info, registration_id: strawberry.ID, kind: AttachmentKind
    ) -> TemplateLink:
        if kind.value not in PROOF_KINDS:
            return TemplateLink(errors=one_error("kind", ErrorCode.NOT_ALLOWED))
        principal = info.context.principal
        async with info.context.db() as db:
            data = await load_registration(db, str(registration_id)[:MAX_ID_INPUT])
        if data is None or principal is None or data.registration.person_id != principal.person_id:
            return TemplateLink(errors=one_error("registrationId", ErrorCode.NOT_FOUND))
        expires = int(time.time()) + LINK_SECONDS
        link = template_link(info.context.services.template_secret, data.id, kind.value, expires)
        return TemplateLink(
            url=f"{info.context.settings.base_url}{link}",
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
