"""The reference client (scripts/reference_client.py) walks the whole flow against the
two-worker setup: the applicant on worker 0, a reviewer on worker 1 who follows the review
queue by subscription, returns the registration once, then approves the fixed one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from gql.schema import export_sdl
from models.attachments import Attachment, AttachmentKind
from models.db import transaction, utcnow
from scripts.reference_client import Identity, MiniProgram
from tests.realtime import QUEUE_EVENTS, Cluster, all_sent, eventually, graphql_ws
from tests.review import approve, detail, return_, reviewer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

APPLICANT = Identity("李四", "01", "330106198501011231", "13900002222")
ITEMS = [
    {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
    {"field": "basicInfo.ethnicGroup", "reasonCode": "INFORMATION_INCORRECT", "note": "民族有误"},
]
UPLOADS_IN_SCHEMA = "requestAttachmentUpload" in export_sdl()


class DirectAttachments(MiniProgram):
    """Stand-in while the upload mutations are not in the schema: the upload step records
    the attachment in the database as a confirmed upload would (everything else is real)."""

    def __init__(self, *args: Any, cluster: Cluster, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cluster = cluster
        self.uploads = 0

    async def upload_attachment(self, registration: dict[str, Any], kind: str) -> dict[str, Any]:
        self.uploads += 1
        now = utcnow()
        async with transaction(self.cluster.local.db) as db:
            current = (
                await db.exec(
                    select(Attachment).where(
                        Attachment.registration_id == registration["id"],
                        Attachment.kind == AttachmentKind(kind),
                        col(Attachment.replaced_at).is_(None),
                    )
                )
            ).first()
            if current is not None:
                current.replaced_at = now
                db.add(current)
                await db.flush()
            db.add(
                Attachment(
                    id=f"{registration['id'][:24]}{self.uploads:08d}",
                    registration_id=registration["id"],
                    kind=AttachmentKind(kind),
                    storage_key=f"attachments/{registration['id']}/{kind}-{self.uploads}.jpg",
                    width=1240,
                    height=1754,
                    byte_size=300_000,
                    sha256=f"{self.uploads:064d}",
                    created_at=now,
                )
            )
        self.say(f"uploaded {kind} (recorded directly)")
        return await self.current()


async def test_reference_client_full_flow_returned_fixed_approved(workers: Cluster) -> None:
    lines: list[str] = []
    options: dict[str, Any] = {
        "corrections": {"basicInfo.ethnicGroup": "02"},
        "say": lines.append,
    }
    base_url = workers.workers[0].base_url
    client: MiniProgram = (
        MiniProgram(base_url, APPLICANT, **options)
        if UPLOADS_IN_SCHEMA
        else DirectAttachments(base_url, APPLICANT, cluster=workers, **options)
    )
    staff = await reviewer(workers.api(1))
    decisions: list[str] = []

    async with graphql_ws(workers.workers[1].base_url) as queue:
        await queue.init(staff.token)
        await queue.subscribe("q", QUEUE_EVENTS, {})
        await queue.ping()
        flow = asyncio.create_task(client.run(120))
        try:
            while len(decisions) < 2:
                event = (await queue.next("q", within=90))["reviewQueueEvents"]
                if event["registrationId"] != client.registration_id:
                    continue
                current = await detail(staff, event["registrationId"])
                assert current is not None
                if event["kind"] == "SUBMITTED":
                    result = await return_(staff, current, items=ITEMS, comment="请修改")
                    decisions.append("RETURNED")
                elif event["kind"] == "RESUBMITTED":
                    assert current["basicInfo"]["ethnicGroup"]["code"] == "02"  # fixed
                    result = await approve(staff, current, comment="审核通过")
                    decisions.append("APPROVED")
                else:
                    continue
                assert result["errors"] == [], result["errors"]
            status = await asyncio.wait_for(flow, 60)
        finally:
            if not flow.done():
                flow.cancel()
            await asyncio.gather(flow, return_exceptions=True)
            await client.close()

    assert status == "APPROVED"
    assert client.decisions == ["RETURNED", "APPROVED"]
    assert any("returned: 2 item(s) to fix" in line for line in lines), lines
    rid = client.registration_id
    await eventually(lambda: all_sent(workers.local), within=20)
    texts = sorted(
        (m.template_code, m.params.get("count"))
        for m in workers.gateway.messages
        if (m.out_id or "").startswith(f"{rid}:")
    )
    assert texts == [("SMS_900001", None), ("SMS_900002", "2")]
    assert all(
        m.phone == APPLICANT.phone
        for m in workers.gateway.messages
        if (m.out_id or "").startswith(f"{rid}:")
    )
