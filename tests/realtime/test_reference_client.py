"""The reference client (scripts/reference_client.py) walks the whole flow against the
two-worker setup: the applicant on worker 0 (real uploads to the local storage), a reviewer
on worker 1 who follows the review queue by subscription, returns the registration once
(the photo and a field), then approves the fixed one; one SMS per decision."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.realtime import QUEUE_EVENTS, Cluster, all_sent, eventually, graphql_ws
from tests.review import approve, detail, return_, reviewer
from tools.reference_client import Identity, MiniProgram

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

APPLICANT = Identity("李四", "01", "330106198501011231", "13900002222")
ITEMS = [
    {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
    {"field": "basicInfo.ethnicGroup", "reasonCode": "INFORMATION_INCORRECT", "note": "民族有误"},
]


async def test_reference_client_full_flow_returned_fixed_approved(workers: Cluster) -> None:
    lines: list[str] = []
    options: dict[str, Any] = {
        "corrections": {"basicInfo.ethnicGroup": "02"},
        "say": lines.append,
    }
    base_url = workers.workers[0].base_url
    client = MiniProgram(base_url, APPLICANT, **options)
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
    # the photo was uploaded twice: for the first submission and as the fix
    assert sum(line == "uploaded ID_PHOTO" for line in lines) == 2, lines
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
