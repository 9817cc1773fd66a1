"""S3Storage against a real S3 HTTP endpoint: moto in server mode (tests/fakes/s3_server.py).

moto 5.2.5 stores whatever a POST upload sends and checks none of the policy (see the
fake's docstring), so the policy S3 would enforce is verified here in two other ways: the
SigV4 signature is recomputed independently, and the policy's conditions are applied to
each bad form with the same evaluator the local backend uses. The bad uploads are also
sent to moto as strict xfails: if a moto release starts enforcing a condition, the test
XPASSes, fails, and should be turned into a plain assertion.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from storage.base import AttachmentStorage, InvalidKey, StorageError, UploadTicket
from storage.local import PostPolicyError, evaluate_post_policy, form_fields
from storage.s3 import S3Storage
from tests.fakes.s3_server import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    moto_s3_endpoint,  # noqa: F401  (the module-scoped moto server fixture)
)
from tests.storage.test_local_storage import alipay_body, jpeg_like, replace_field

KEY = "pending/reg123/up456.jpg"
MIN_BYTES = 1000
MAX_BYTES = 5000


@pytest.fixture(scope="module")
def admin(moto_s3_endpoint: str) -> Iterator[Any]:  # noqa: F811
    """A plain boto3 client for test set-up (bucket creation)."""
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3_endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    yield client
    client.close()


@pytest.fixture
async def s3(moto_s3_endpoint: str, admin: Any) -> AsyncIterator[S3Storage]:  # noqa: F811
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=bucket)
    storage = S3Storage(
        bucket,
        moto_s3_endpoint,
        REGION,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
    )
    await storage.start()
    yield storage
    await storage.aclose()


async def ticket_for(storage: S3Storage, expires_in_s: int = 300) -> UploadTicket:
    return await storage.presign_upload(
        KEY,
        content_type="image/jpeg",
        min_bytes=MIN_BYTES,
        max_bytes=MAX_BYTES,
        expires_in_s=expires_in_s,
    )


async def post_form(
    ticket: UploadTicket, fields: list[tuple[str, str]], data: bytes | None
) -> httpx.Response:
    body, content_type = alipay_body(fields, data)
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(ticket.url, content=body, headers={"content-type": content_type})


def sigv4_post_signature(policy_b64: str, credential: str) -> str:
    """S3's POST signature, computed independently of botocore."""
    _, day, region, service, _ = credential.split("/")
    key = ("AWS4" + SECRET_ACCESS_KEY).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()


# the ticket ---------------------------------------------------------------------------------


async def test_ticket_pins_key_type_size_and_a_short_expiry(s3: S3Storage) -> None:
    assert isinstance(s3, AttachmentStorage)
    before = datetime.now(UTC).replace(microsecond=0)
    ticket = await ticket_for(s3, expires_in_s=300)
    assert ticket.url == f"{s3.endpoint_url}/{s3.bucket}"
    names = [name for name, _ in ticket.fields]
    assert names[0] == "key"
    assert set(names) == {
        "key",
        "Content-Type",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "policy",
        "x-amz-signature",
    }
    fields = dict(ticket.fields)
    assert fields["key"] == KEY
    assert fields["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"key": KEY} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", MIN_BYTES, MAX_BYTES] in conditions
    assert {"bucket": s3.bucket} in conditions
    assert before + timedelta(seconds=299) <= ticket.expires_at
    assert ticket.expires_at <= before + timedelta(seconds=302)
    assert policy["expiration"] == ticket.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ticket.max_bytes == MAX_BYTES
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-credential"].startswith(f"{ACCESS_KEY_ID}/")
    assert fields["x-amz-signature"] == sigv4_post_signature(
        fields["policy"], fields["x-amz-credential"]
    )


def _bad_form(case: str, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if case == "wrong_type":
        return replace_field(fields, "Content-Type", "text/html")
    if case == "other_key":
        return replace_field(fields, "key", "attachments/reg999/x.jpg")
    if case == "extra_field":
        return [*fields, ("x-amz-meta-owner", "someone")]
    if case == "missing_type":
        return [item for item in fields if item[0] != "Content-Type"]
    return fields


@pytest.mark.parametrize(
    ("case", "failure"),
    [
        ("wrong_type", 'Policy Condition failed: {"Content-Type": "image/jpeg"}'),
        ("other_key", 'Policy Condition failed: {"key": "pending/reg123/up456.jpg"}'),
        ("extra_field", "Extra input fields: x-amz-meta-owner"),
        ("missing_type", 'Policy Condition failed: {"Content-Type": "image/jpeg"}'),
        ("expired", "Policy expired."),
    ],
)
async def test_policy_conditions_refuse_bad_forms(s3: S3Storage, case: str, failure: str) -> None:
    ticket = await ticket_for(s3, expires_in_s=60)
    fields = dict(ticket.fields)
    now = time.time() + (61 if case == "expired" else 0)
    accepted = evaluate_post_policy(fields["policy"], form_fields(ticket.fields), now=time.time())
    assert (accepted.key, accepted.min_bytes, accepted.max_bytes) == (KEY, MIN_BYTES, MAX_BYTES)
    with pytest.raises(PostPolicyError) as refused:
        evaluate_post_policy(fields["policy"], form_fields(_bad_form(case, ticket.fields)), now=now)
    assert refused.value.status == 403
    assert refused.value.code == "AccessDenied"
    assert failure in refused.value.message


# real uploads through moto ----------------------------------------------------------------


async def test_alipay_shaped_post_upload_lands(s3: S3Storage) -> None:
    ticket = await ticket_for(s3)
    data = jpeg_like(3000)
    response = await post_form(ticket, ticket.fields, data)
    assert response.status_code == 204, response.text
    assert await s3.read(KEY) == data
    assert await s3.size(KEY) == len(data)
    listed = await s3.list_keys("pending/")
    assert [(item.key, item.size) for item in listed] == [(KEY, len(data))]
    assert listed[0].modified_at.tzinfo is not None
    head = await s3._client.head_object(Bucket=s3.bucket, Key=KEY)
    assert head["ContentType"] == "image/jpeg"
    await s3.delete(KEY)
    assert await s3.read(KEY) is None


MOTO_GAP = "moto 5.2.5 does not check POST policies: it stores the upload and answers 204"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=MOTO_GAP))
        for case in (
            "oversized",
            "undersized",
            "wrong_type",
            "other_key",
            "extra_field",
            "altered_signature",
            "missing_file",
            "expired",
        )
    ],
)
async def test_moto_refuses_bad_post(s3: S3Storage, case: str) -> None:
    ticket = await ticket_for(s3, expires_in_s=1)
    fields = _bad_form(case, ticket.fields)
    data: bytes | None = jpeg_like(3000)
    if case == "oversized":
        data = jpeg_like(MAX_BYTES + 1)
    elif case == "undersized":
        data = jpeg_like(MIN_BYTES - 1)
    elif case == "altered_signature":
        fields = replace_field(fields, "x-amz-signature", "0" * 64)
    elif case == "missing_file":
        data = None
    elif case == "expired":
        await asyncio.sleep(2.1)
    response = await post_form(ticket, fields, data)
    assert response.status_code in (400, 403)
    assert await s3.list_keys("") == []


# the rest of the interface --------------------------------------------------------------


async def test_put_read_list_delete_and_download(s3: S3Storage) -> None:
    assert await s3.ping()
    assert await s3.read("attachments/r1/ID_PHOTO/a.jpg") is None
    assert await s3.size("attachments/r1/ID_PHOTO/a.jpg") is None
    await s3.delete("attachments/r1/ID_PHOTO/a.jpg")  # missing: not an error
    await s3.put("attachments/r1/ID_PHOTO/a.jpg", b"photo", "image/jpeg")
    await s3.put("attachments/r1/ID_PHOTO/a.thumb.jpg", b"t", "image/jpeg")
    await s3.put("attachments/r2/ID_PHOTO/b.jpg", b"other", "image/jpeg")
    keys = [item.key for item in await s3.list_keys("attachments/r1/")]
    assert keys == ["attachments/r1/ID_PHOTO/a.jpg", "attachments/r1/ID_PHOTO/a.thumb.jpg"]
    assert len(await s3.list_keys("")) == 3
    url = await s3.presign_download("attachments/r1/ID_PHOTO/a.jpg", expires_in_s=120)
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=120" in url
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
        assert response.status_code == 200
        assert response.content == b"photo"
        assert response.headers["content-type"] == "image/jpeg"
        missing = await http.get(await s3.presign_download("nothing/here.jpg", expires_in_s=60))
        assert missing.status_code == 404
        assert "<Code>NoSuchKey</Code>" in missing.text


@pytest.mark.slow
async def test_many_pages_are_listed(s3: S3Storage) -> None:
    gate = asyncio.Semaphore(16)

    async def put(index: int) -> None:
        async with gate:
            await s3.put(f"bulk/{index:04d}.jpg", b"x", "image/jpeg")

    await asyncio.gather(*(put(index) for index in range(25)))  # three pages of 10
    listed = await s3.list_keys("bulk/", page_size=10)
    assert len(listed) == 25
    assert listed[0].key == "bulk/0000.jpg"
    assert listed[-1].key == "bulk/0024.jpg"
    assert [o.key for o in await s3.list_keys("bulk/")] == [o.key for o in listed]


async def test_one_long_lived_client(s3: S3Storage) -> None:
    client = s3._client
    await s3.start()  # a second start keeps the client
    await s3.put("a/b.jpg", b"1", "image/jpeg")
    await s3.read("a/b.jpg")
    await ticket_for(s3)
    assert s3._client is client
    await s3.aclose()
    assert not await s3.ping()
    with pytest.raises(StorageError):
        await s3.read("a/b.jpg")
    await s3.aclose()  # twice is fine


async def test_unsafe_keys_are_refused(s3: S3Storage) -> None:
    for key in ("../x.jpg", "/x.jpg", "a\\b.jpg", "a b.jpg"):
        with pytest.raises(InvalidKey):
            await s3.presign_upload(
                key, content_type="image/jpeg", min_bytes=1, max_bytes=2, expires_in_s=60
            )
        with pytest.raises(InvalidKey):
            await s3.put(key, b"x", "image/jpeg")


async def test_public_endpoint_and_virtual_addressing() -> None:
    storage = S3Storage(
        "photos",
        "http://10.0.0.5:9000",
        "cn-hangzhou",
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        public_endpoint_url="https://oss.example.org",
        addressing_style="virtual",
    )
    async with storage:
        ticket = await storage.presign_upload(
            KEY, content_type="image/jpeg", min_bytes=1, max_bytes=9, expires_in_s=60
        )
        assert ticket.url == "https://photos.oss.example.org/"
        assert "/cn-hangzhou/s3/aws4_request" in dict(ticket.fields)["x-amz-credential"]
        url = await storage.presign_download(KEY, expires_in_s=60)
        assert url.startswith(f"https://photos.oss.example.org/{KEY}?")


async def test_ping_is_false_when_the_endpoint_is_down() -> None:
    storage = S3Storage(
        "b",
        "http://127.0.0.1:9",
        REGION,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        connect_timeout_s=0.5,
        max_attempts=1,
        ping_timeout_s=1.0,
    )
    assert not await storage.ping()  # not started
    async with storage:
        assert not await storage.ping()
        with pytest.raises(StorageError):
            await storage.put("a/b.jpg", b"1", "image/jpeg")
