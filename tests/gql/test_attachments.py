"""Attachments through the API, shaped like the mini-program's uploads, on local disk and on a
real S3 endpoint (moto's server mode): uploads, checks, replacement and every refusal."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from sqlalchemy import update

from models.attachments import Upload
from models.db import transaction, utcnow
from tests.api import Api, running_api, settings_for
from tests.fakes.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, run_moto_s3
from tests.images import jpeg, portrait
from tests.uploads import confirm, file_for, image_of, post_file, request_upload, upload, upload_all
from tests.wizard import (
    MY_REGISTRATION,
    RESIDENCE,
    SAVE_WORK,
    SUBMIT,
    fill_wizard,
    ok,
    sign_in,
    step,
)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with run_moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
async def storage_api(
    request: pytest.FixtureRequest, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Api]:
    overrides: dict[str, Any] = {}
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = f"attachments-{uuid.uuid4().hex[:8]}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        ).create_bucket(Bucket=bucket)
        overrides = {
            "storage_backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": endpoint,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY_ID,
            "s3_secret_access_key": SECRET_ACCESS_KEY,
        }
    async with running_api(settings_for(sqlite_url, tmp_path, **overrides)) as api:
        yield api


async def fetch(api: Api, url: str) -> httpx.Response:
    if url.startswith("http://testserver"):
        return await api.http.get(url)
    async with httpx.AsyncClient() as client:
        return await client.get(url)


async def test_wizard_uploads_every_attachment_and_submits(storage_api: Api) -> None:
    applicant = await sign_in(storage_api)
    registration = await fill_wizard(applicant, part_time=True)
    registration = await upload_all(applicant, registration)
    assert all(item["satisfied"] for item in registration["requiredAttachments"])
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    submitted = await ok(applicant, SUBMIT, mine, agreed=True)
    assert submitted["status"] == "SUBMITTED"
    assert {a["kind"] for a in submitted["attachments"]} == {
        i["kind"] for i in submitted["requiredAttachments"]
    }


async def test_confirmed_photo_is_cleaned_and_previewable(storage_api: Api) -> None:
    applicant = await sign_in(storage_api)
    registration = await fill_wizard(applicant)
    payload = await upload(applicant, registration["id"], "ID_PHOTO")
    assert payload["errors"] == []
    attachment = payload["attachment"]
    assert (attachment["kind"], attachment["width"], attachment["height"]) == ("ID_PHOTO", 640, 960)
    stored = await fetch(applicant, attachment["url"])
    assert stored.status_code == 200 and stored.content[:2] == b"\xff\xd8"
    assert image_of(stored.content).getexif() == {}  # no metadata kept
    preview = await fetch(applicant, attachment["previewUrl"])
    assert preview.status_code == 200 and max(image_of(preview.content).size) <= 400


async def test_uploading_again_replaces_and_deletes_the_earlier_file(storage_api: Api) -> None:
    applicant = await sign_in(storage_api)
    registration = await fill_wizard(applicant)
    first = (await upload(applicant, registration["id"], "ID_PHOTO"))["attachment"]
    second_photo = jpeg(portrait((700, 1000), seed=7))
    second = await upload(applicant, registration["id"], "ID_PHOTO", second_photo)
    assert second["errors"] == []
    photos = [a for a in second["registration"]["attachments"] if a["kind"] == "ID_PHOTO"]
    assert [p["id"] for p in photos] == [second["attachment"]["id"]]
    gone = await fetch(applicant, first["url"])
    assert gone.status_code in (403, 404)


async def test_bad_uploads_are_refused_with_specific_codes(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant, work=False, qualification=False)
    rid = registration["id"]

    def codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
        return [(e["field"], e["code"]) for e in payload["errors"]]

    assert codes(await request_upload(applicant, rid, "ID_PHOTO", 200_000, "image/png")) == [
        ("contentType", "CONTENT_TYPE_NOT_ALLOWED")
    ]
    assert codes(await request_upload(applicant, rid, "ID_PHOTO", 5_000_000)) == [
        ("byteSize", "FILE_TOO_LARGE")
    ]
    assert codes(await request_upload(applicant, rid, "ID_PHOTO", 50_000)) == [
        ("byteSize", "FILE_TOO_SMALL")
    ]
    assert codes(await request_upload(applicant, rid, "CREDIT_CODE_CERTIFICATE", 200_000)) == [
        ("attachments.CREDIT_CODE_CERTIFICATE", "ATTACHMENT_NOT_REQUIRED")
    ]
    assert codes(await request_upload(applicant, "nope", "ID_PHOTO", 200_000)) == [
        ("registrationId", "NOT_FOUND")
    ]

    photo = file_for("ID_PHOTO")
    requested = await request_upload(applicant, rid, "ID_PHOTO", len(photo))
    upload_id = requested["upload"]["id"]
    assert codes(await confirm(applicant, upload_id)) == [("uploadId", "UPLOAD_NOT_RECEIVED")]

    stranger = await sign_in(
        api, {"name": "李四", "idType": "01", "idNumber": "11010519491231002X"}
    )
    assert codes(await confirm(stranger, upload_id)) == [("uploadId", "UPLOAD_NOT_FOUND")]

    # the upload endpoint enforces the policy: too big, another key, a forged signature
    ticket = requested["upload"]
    too_big = await post_file(applicant, ticket, photo + b"\0" * (ticket["maxBytes"]))
    assert too_big.status_code == 400 and "EntityTooLarge" in too_big.text
    moved = {
        **ticket,
        "fields": [
            {**f, "value": f"pending/{rid}/other.jpg"} if f["name"] == "key" else f
            for f in ticket["fields"]
        ],
    }
    assert (await post_file(applicant, moved, photo)).status_code == 403
    forged = {
        **ticket,
        "fields": [
            {**f, "value": f["value"][:-4] + "AAAA"} if "ignature" in f["name"] else f
            for f in ticket["fields"]
        ],
    }
    assert (await post_file(applicant, forged, photo)).status_code == 403

    assert (await post_file(applicant, ticket, photo)).status_code == 204
    confirmed = await confirm(applicant, upload_id)
    assert confirmed["errors"] == []
    assert codes(await confirm(applicant, upload_id)) == [("uploadId", "UPLOAD_ALREADY_CONFIRMED")]
    assert codes(await confirm(applicant, "0" * 32)) == [("uploadId", "UPLOAD_NOT_FOUND")]


async def test_a_photo_that_fails_a_blocking_check_changes_nothing(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    landscape = jpeg(portrait((960, 640)))
    payload = await upload(applicant, registration["id"], "ID_PHOTO", landscape)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("attachments.ID_PHOTO", "PHOTO_NOT_PORTRAIT")
    ]
    assert payload["errors"][0]["message"].startswith("照片应为竖版")
    assert payload["attachment"] is None
    assert payload["registration"]["version"] == registration["version"]
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert mine["attachments"] == []


async def test_advisory_findings_are_kept_with_the_attachment(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    green = jpeg(portrait((640, 960), background=(40, 160, 60)))
    payload = await upload(applicant, registration["id"], "ID_PHOTO", green)
    assert payload["errors"] == []
    query = "{ myRegistration { attachments { kind problems { field code } } problems { field code } } }"
    mine = (await applicant.data(query))["myRegistration"]
    assert mine["attachments"] == [
        {
            "kind": "ID_PHOTO",
            "problems": [{"field": "attachments.ID_PHOTO", "code": "PHOTO_BACKGROUND"}],
        }
    ]
    assert {"field": "attachments.ID_PHOTO", "code": "PHOTO_BACKGROUND"} in mine["problems"]


async def test_expired_uploads_cannot_be_confirmed_and_are_swept(api: Api) -> None:
    from storage.uploads import sweep_expired_uploads

    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    photo = file_for("ID_PHOTO")
    requested = await request_upload(applicant, registration["id"], "ID_PHOTO", len(photo))
    async with transaction(api.services.db) as db:
        await db.exec(
            update(Upload)
            .where(Upload.id == requested["upload"]["id"])  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(hours=2))
        )
    payload = await confirm(applicant, requested["upload"]["id"])
    assert [e["code"] for e in payload["errors"]] == ["UPLOAD_EXPIRED"]
    assert api.services.storage is not None
    assert await sweep_expired_uploads(api.services.db, api.services.storage, utcnow()) == 1
    again = await confirm(applicant, requested["upload"]["id"])
    assert [e["code"] for e in again["errors"]] == ["UPLOAD_EXPIRED"]


async def test_two_uploads_racing_for_one_kind_leave_exactly_one(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    photos = [jpeg(portrait((640, 960), seed=s)) for s in (11, 12)]
    tickets = [
        await request_upload(applicant, registration["id"], "ID_PHOTO", len(p)) for p in photos
    ]
    for ticket, photo in zip(tickets, photos, strict=True):
        assert (await post_file(applicant, ticket["upload"], photo)).status_code == 204
    results = await asyncio.gather(*(confirm(applicant, t["upload"]["id"]) for t in tickets))
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    current = [a for a in mine["attachments"] if a["kind"] == "ID_PHOTO"]
    assert len(current) == 1
    # the later-requested upload is the one that stays, whatever order the confirms ran in
    later = results[1]
    assert later["errors"] == [] and current[0]["id"] == later["attachment"]["id"]
    earlier_codes = [e["code"] for e in results[0]["errors"]]
    assert earlier_codes in ([], ["UPLOAD_SUPERSEDED"])


async def test_no_uploads_once_submitted_and_stale_kinds_are_refused(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    registration = await upload_all(applicant, registration)
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    switched = await ok(applicant, SAVE_WORK, mine, residence=RESIDENCE)
    assert "CREDIT_CODE_CERTIFICATE" not in {a["kind"] for a in switched["attachments"]}
    refused = await request_upload(
        applicant, registration["id"], "CREDIT_CODE_CERTIFICATE", 200_000
    )
    assert [e["code"] for e in refused["errors"]] == ["ATTACHMENT_NOT_REQUIRED"]
    submitted = await ok(applicant, SUBMIT, switched, agreed=True)
    assert submitted["status"] == "SUBMITTED"
    late = await request_upload(applicant, registration["id"], "ID_PHOTO", 200_000)
    assert [e["code"] for e in late["errors"]] == ["NOT_EDITABLE"]


async def test_proof_templates_are_prefilled_and_expire(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    query = """query($id: ID!, $kind: AttachmentKind!) { proofTemplate(registrationId: $id, kind: $kind) {
      url expiresAt errors { field code } } }"""
    link = (
        await applicant.data(query, {"id": registration["id"], "kind": "CURRENT_EMPLOYER_PROOF"})
    )["proofTemplate"]
    page = await api.http.get(link["url"])
    assert page.status_code == 200
    assert (
        "现会计工作单位证明" in page.text
        and "张三" in page.text
        and "330106199003071236" in page.text
    )
    assert "杭州示例科技有限公司" in page.text
    tampered = await api.http.get(link["url"][:-3] + "abc")
    assert tampered.status_code == 403
    wrong = (await applicant.data(query, {"id": registration["id"], "kind": "ID_PHOTO"}))[
        "proofTemplate"
    ]
    assert wrong["errors"] == [{"field": "kind", "code": "NOT_ALLOWED"}]
    stranger = await sign_in(
        api, {"name": "李四", "idType": "01", "idNumber": "11010519491231002X"}
    )
    other = (
        await stranger.data(query, {"id": registration["id"], "kind": "FIRST_EMPLOYER_PROOF"})
    )["proofTemplate"]
    assert (
        other["errors"] == [{"field": "registrationId", "code": "NOT_FOUND"}]
        and other["url"] is None
    )


async def test_submit_needs_real_attachments(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    payload = await step(applicant, SUBMIT, registration, agreed=True)
    assert ("attachments.ID_PHOTO", "ATTACHMENT_MISSING") in [
        (e["field"], e["code"]) for e in payload["errors"]
    ]


def _key_of(ticket: dict[str, Any]) -> str:
    return next(f["value"] for f in ticket["fields"] if f["name"] == "key")


async def test_a_spent_policy_leaves_no_second_file(storage_api: Api) -> None:
    from storage.uploads import SWEEP_GRACE, sweep_expired_uploads

    applicant = await sign_in(storage_api)
    registration = await fill_wizard(applicant)
    photo = file_for("ID_PHOTO")
    requested = await request_upload(applicant, registration["id"], "ID_PHOTO", len(photo))
    ticket = requested["upload"]
    assert (await post_file(applicant, ticket, photo)).status_code in (200, 201, 204)
    assert (await confirm(applicant, ticket["id"]))["errors"] == []
    storage = storage_api.services.storage
    assert storage is not None
    second = await post_file(applicant, ticket, photo)
    if storage_api.services.settings.storage_backend == "local":
        assert second.status_code == 403 and "AccessDenied" in second.text
    else:  # S3 takes a policy until it expires; the object must not stay
        assert second.status_code in (200, 201, 204)
    again = await confirm(applicant, ticket["id"])
    assert [e["code"] for e in again["errors"]] == ["UPLOAD_ALREADY_CONFIRMED"]
    assert await storage.read(_key_of(ticket)) is None  # deleted on sight
    await post_file(applicant, ticket, photo)  # once more, then nobody confirms
    later = utcnow() + timedelta(seconds=700) + SWEEP_GRACE
    assert await sweep_expired_uploads(storage_api.services.db, storage, later) == 0
    assert await storage.read(_key_of(ticket)) is None


async def test_the_policy_admits_exactly_the_declared_size(storage_api: Api) -> None:
    applicant = await sign_in(storage_api)
    registration = await fill_wizard(applicant)
    photo = file_for("ID_PHOTO")
    requested = await request_upload(applicant, registration["id"], "ID_PHOTO", len(photo) + 500)
    ticket = requested["upload"]
    assert ticket["maxBytes"] == len(photo) + 500
    fields = {f["name"].lower(): f["value"] for f in ticket["fields"]}
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", len(photo) + 500, len(photo) + 500] in policy["conditions"]
    sent = await post_file(applicant, ticket, photo)  # smaller than declared, within bounds
    payload = await confirm(applicant, ticket["id"])
    if storage_api.services.settings.storage_backend == "local":
        assert sent.status_code == 400 and "EntityTooSmall" in sent.text
        assert [e["code"] for e in payload["errors"]] == ["UPLOAD_NOT_RECEIVED"]
    else:  # moto does not enforce the range (S3 does): the confirm refuses the file
        assert [e["code"] for e in payload["errors"]] == ["FILE_CORRUPT"]
        assert await storage_api.services.storage.read(_key_of(ticket)) is None  # type: ignore[union-attr]


async def test_at_most_three_pending_uploads_per_registration(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    photo = file_for("ID_PHOTO")
    tickets = [
        await request_upload(applicant, registration["id"], "ID_PHOTO", len(photo))
        for _ in range(3)
    ]
    assert all(t["errors"] == [] for t in tickets)
    fourth = await request_upload(applicant, registration["id"], "ID_PHOTO", len(photo))
    assert [(e["field"], e["code"]) for e in fourth["errors"]] == [
        ("registrationId", "TOO_MANY_PENDING_UPLOADS")
    ]
    assert fourth["upload"] is None
    ticket = tickets[0]["upload"]
    await post_file(applicant, ticket, photo)
    assert (await confirm(applicant, ticket["id"]))["errors"] == []
    fifth = await request_upload(applicant, registration["id"], "ID_PHOTO", len(photo))
    assert fifth["errors"] == []


async def test_upload_requests_are_rate_limited_per_applicant(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = settings_for(sqlite_url, tmp_path, upload_requests_per_person="2/hour")
    async with running_api(settings) as api:
        applicant = await sign_in(api)
        registration = await fill_wizard(applicant)
        answers = [
            await request_upload(
                applicant, registration["id"], "ID_PHOTO", len(file_for("ID_PHOTO"))
            )
            for _ in range(3)
        ]
        assert [[e["code"] for e in a["errors"]] for a in answers] == [
            [],
            [],
            ["TOO_MANY_ATTEMPTS"],
        ]
        other = await sign_in(
            api, {"name": "李四", "idType": "01", "idNumber": "11010519491231002X"}
        )
        theirs = await fill_wizard(other)
        assert (await request_upload(other, theirs["id"], "ID_PHOTO", len(file_for("ID_PHOTO"))))[
            "errors"
        ] == []


async def test_size_answers_name_the_limit_and_a_bigger_file_than_declared_is_a_mismatch(
    api: Api,
) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant, work=False, qualification=False)
    rid = registration["id"]
    too_large = await request_upload(applicant, rid, "ID_PHOTO", 5_000_000)
    assert too_large["errors"][0]["message"].startswith("文件过大（上限3 MB）")
    too_small = await request_upload(applicant, rid, "ID_PHOTO", 50_000)
    assert too_small["errors"][0]["message"].startswith("文件过小（下限60 KB）")

    photo = file_for("ID_PHOTO")
    # declared smaller than what is then sent (within the kind's limit): stored, but refused
    requested = await request_upload(applicant, rid, "ID_PHOTO", len(photo) - 1000)
    sent = await post_file(applicant, requested["upload"], photo)
    assert sent.status_code == 204
    mismatch = await confirm(applicant, requested["upload"]["id"])
    assert [(e["field"], e["code"]) for e in mismatch["errors"]] == [
        ("attachments.ID_PHOTO", "FILE_SIZE_MISMATCH")
    ]
    assert mismatch["registration"]["attachments"] == []

    # over the kind's limit: the local storage answers JSON a phone can show
    ticket = (await request_upload(applicant, rid, "ID_PHOTO", len(photo)))["upload"]
    refused = await post_file(applicant, ticket, photo + b"\0" * ticket["maxBytes"])
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/json")
    body = refused.json()
    assert body["code"] == "FILE_TOO_LARGE" and body["s3Code"] == "EntityTooLarge"
    assert body["message"].startswith("文件过大（上限3 MB）")
