"""LocalDiskStorage through its real Starlette endpoints (httpx, in-process and over a socket)."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from storage.base import AttachmentStorage, InvalidKey, UploadTicket, validate_key
from storage.local import LocalDiskStorage
from storage.local_routes import local_storage_routes
from tests.fakes.server import run_asgi_server

BASE_URL = "http://testserver"
SECRET = b"0123456789abcdef0123456789abcdef"
KEY = "pending/reg123/up456.jpg"
MIN_BYTES = 61_441
MAX_BYTES = 3_145_727


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def alipay_body(
    fields: list[tuple[str, str]],
    file_bytes: bytes | None,
    *,
    file_field: str = "file",
    after_file: list[tuple[str, str]] | None = None,
    boundary: str = "----AlipayUploadBoundary7MA4YWxkTrZu0gW",
) -> tuple[bytes, str]:
    """A multipart/form-data body shaped like Alipay's ``my.uploadFile``: the ``formData``
    fields first in order, then the file part with a filename and a generic type."""
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if file_bytes is not None:
        chunks.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{file_field}"; '
                f'filename="tmp_6f1c2b9e.jpg"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + file_bytes
            + b"\r\n"
        )
    for name, value in after_file or []:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def jpeg_like(size: int) -> bytes:
    return (b"\xff\xd8\xff\xe0" + os.urandom(size))[:size]


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def s3_code(response: httpx.Response) -> str:
    """The S3 code of a local-storage error (its body is JSON; S3's own is XML)."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert re.search(r"[\u4e00-\u9fff]", body["message"]), body  # a sentence a phone can show
    return str(body["s3Code"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[LocalDiskStorage]:
    store = LocalDiskStorage(tmp_path / "files", BASE_URL, SECRET, clock=clock)
    await store.start()
    yield store
    await store.aclose()


@pytest.fixture
async def client(storage: LocalDiskStorage) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=local_storage_routes(storage))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


async def ticket_for(storage: LocalDiskStorage, **overrides: int) -> UploadTicket:
    return await storage.presign_upload(
        KEY,
        content_type="image/jpeg",
        min_bytes=overrides.get("min_bytes", MIN_BYTES),
        max_bytes=overrides.get("max_bytes", MAX_BYTES),
        expires_in_s=overrides.get("expires_in_s", 600),
    )


async def post(
    client: httpx.AsyncClient, ticket: UploadTicket, body: bytes, content_type: str
) -> httpx.Response:
    return await client.post(ticket.url, content=body, headers={"content-type": content_type})


def replace_field(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(key, value if key == name else old) for key, old in fields]


# the ticket ---------------------------------------------------------------------------------


async def test_ticket_is_an_s3_style_signed_policy(storage: LocalDiskStorage, clock: Clock) -> None:
    ticket = await ticket_for(storage)
    assert isinstance(storage, AttachmentStorage)
    assert ticket.url == f"{BASE_URL}/uploads"
    assert [name for name, _ in ticket.fields] == ["key", "Content-Type", "policy", "signature"]
    fields = dict(ticket.fields)
    assert fields["key"] == KEY
    assert fields["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert policy["conditions"] == [
        ["eq", "$key", KEY],
        {"Content-Type": "image/jpeg"},
        ["content-length-range", MIN_BYTES, MAX_BYTES],
    ]
    assert policy["expiration"] == "2027-01-15T08:10:00.000Z"  # clock + 600 s
    assert ticket.expires_at.timestamp() == clock.now + 600
    assert ticket.max_bytes == MAX_BYTES
    assert re.fullmatch(r"[0-9a-f]{64}", fields["signature"])


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "a/../b.jpg",
        "/abs.jpg",
        "a\\b.jpg",
        "a b.jpg",
        "照片.jpg",
        "a//b",
        "a/./b",
        "",
        "dir/",
        "a" * 513,
        "x%2e%2e/y",
        "k?x=1",
    ],
)
async def test_unsafe_keys_are_refused(storage: LocalDiskStorage, key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)
    with pytest.raises(InvalidKey):
        await storage.presign_upload(
            key, content_type="image/jpeg", min_bytes=1, max_bytes=2, expires_in_s=60
        )
    with pytest.raises(InvalidKey):
        await storage.read(key)


async def test_bad_limits_are_refused(storage: LocalDiskStorage) -> None:
    with pytest.raises(ValueError):
        await ticket_for(storage, min_bytes=10, max_bytes=5)
    with pytest.raises(ValueError):
        await ticket_for(storage, expires_in_s=0)
    with pytest.raises(ValueError):
        await storage.presign_upload(
            KEY, content_type="image/jpeg\r\nX: y", min_bytes=1, max_bytes=2, expires_in_s=9
        )


# the upload endpoint ------------------------------------------------------------------------


async def test_alipay_shaped_upload_is_stored(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    ticket = await ticket_for(storage)
    data = jpeg_like(100_000)
    body, content_type = alipay_body(ticket.fields, data)
    response = await post(client, ticket, body, content_type)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert await storage.read(KEY) == data
    assert await storage.size(KEY) == len(data)
    listed = await storage.list_keys("pending/reg123/")
    assert [(item.key, item.size) for item in listed] == [(KEY, len(data))]
    assert files_under(storage.root / "tmp") == []


async def test_a_policy_carries_one_file_only(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    ticket = await ticket_for(storage, min_bytes=10, max_bytes=5000)
    body, content_type = alipay_body(ticket.fields, jpeg_like(100))
    assert (await post(client, ticket, body, content_type)).status_code == 204
    await storage.delete(KEY)  # confirmed and moved away
    again, content_type = alipay_body(ticket.fields, jpeg_like(200))
    response = await post(client, ticket, again, content_type)
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text
    assert await storage.size(KEY) is None


async def test_sizes_at_the_limits_are_accepted(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    for size in (1000, 2000):
        ticket = await ticket_for(storage, min_bytes=1000, max_bytes=2000, expires_in_s=size)
        body, content_type = alipay_body(ticket.fields, jpeg_like(size))
        response = await post(client, ticket, body, content_type)
        assert response.status_code == 204, response.text
        assert await storage.size(KEY) == size


# what the local endpoint answers in `code`, and how its message starts, per case
OUR_CODES = {
    "oversized": "FILE_TOO_LARGE",
    "undersized": "FILE_TOO_SMALL",
    "expired": "UPLOAD_EXPIRED",
}
MESSAGE_STARTS = {"oversized": "文件过大（上限5 KB）", "undersized": "文件过小（下限1 KB）"}


@pytest.mark.parametrize(
    ("case", "status", "code", "message"),
    [
        ("oversized", 400, "EntityTooLarge", "exceeds the maximum allowed size"),
        ("undersized", 400, "EntityTooSmall", "smaller than the minimum allowed size"),
        ("wrong_type", 403, "AccessDenied", 'Policy Condition failed: {"Content-Type"'),
        ("expired", 403, "AccessDenied", "Policy expired"),
        ("other_key", 403, "AccessDenied", 'Policy Condition failed: ["eq", "$key"'),
        ("altered_signature", 403, "SignatureDoesNotMatch", "does not match"),
        ("altered_policy", 403, "SignatureDoesNotMatch", "does not match"),
        ("missing_signature", 400, "InvalidArgument", "named 'signature'"),
        ("missing_policy", 403, "AccessDenied", "Access Denied"),
        ("missing_file", 400, "InvalidArgument", "exactly one file"),
        ("file_named_otherwise", 400, "InvalidArgument", "exactly one file"),
        ("extra_field", 403, "AccessDenied", "Extra input fields: x-amz-meta-name"),
        ("duplicate_field", 400, "InvalidArgument", "more than once"),
    ],
)
async def test_policy_violations_are_refused_and_leave_nothing(
    storage: LocalDiskStorage,
    client: httpx.AsyncClient,
    clock: Clock,
    case: str,
    status: int,
    code: str,
    message: str,
) -> None:
    ticket = await ticket_for(storage, min_bytes=1000, max_bytes=5000)
    fields = list(ticket.fields)
    data = jpeg_like(3000)
    file_field = "file"
    if case == "oversized":
        data = jpeg_like(5001)
    elif case == "undersized":
        data = jpeg_like(999)
    elif case == "wrong_type":
        fields = replace_field(fields, "Content-Type", "text/html")
    elif case == "expired":
        clock.now += 601
    elif case == "other_key":
        fields = replace_field(fields, "key", "attachments/reg999/ID_PHOTO/x.jpg")
    elif case == "altered_signature":
        signature = dict(fields)["signature"]
        fields = replace_field(fields, "signature", signature[:-1] + "0f"[signature[-1] == "0"])
    elif case == "altered_policy":
        policy = json.loads(base64.b64decode(dict(fields)["policy"]))
        policy["conditions"][2] = ["content-length-range", 0, 10**9]
        forged = base64.b64encode(json.dumps(policy).encode()).decode()
        fields = replace_field(fields, "policy", forged)
    elif case == "missing_signature":
        fields = [item for item in fields if item[0] != "signature"]
    elif case == "missing_policy":
        fields = [item for item in fields if item[0] != "policy"]
    elif case == "missing_file":
        data = None  # type: ignore[assignment]
    elif case == "file_named_otherwise":
        file_field = "upload"
        data = jpeg_like(1500)
    elif case == "extra_field":
        fields.append(("x-amz-meta-name", "张三"))
    elif case == "duplicate_field":
        fields.append(("key", KEY))
    body, content_type = alipay_body(fields, data, file_field=file_field)
    response = await post(client, ticket, body, content_type)
    assert response.status_code == status, response.text
    assert s3_code(response) == code
    body = response.json()
    assert message in body["detail"]
    assert body["code"] == OUR_CODES.get(case, "UPLOAD_FORM_INVALID")
    assert body["message"].startswith(MESSAGE_STARTS.get(case, ""))  # sizes name the limit
    assert files_under(storage.root) == []


async def test_oversized_stream_is_cut_off_early(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    """A 32 MiB upload against a 5000-byte policy is refused after a few chunks."""
    ticket = await ticket_for(storage, min_bytes=1000, max_bytes=5000)
    head, content_type = alipay_body(ticket.fields, b"")
    head = head[: head.rindex(b"\r\n--")]  # open file part, no closing boundary
    chunk = b"\xab" * 65_536
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head
        for _ in range(512):
            sent += len(chunk)
            yield chunk

    response = await client.post(ticket.url, content=body(), headers={"content-type": content_type})
    assert response.status_code == 400
    assert s3_code(response) == "EntityTooLarge"
    assert sent <= 2 * len(chunk)
    assert files_under(storage.root) == []


async def test_declared_length_over_the_hard_cap_is_refused_unread(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    ticket = await ticket_for(storage)
    body, content_type = alipay_body(ticket.fields, jpeg_like(100_000))
    response = await client.post(
        ticket.url,
        content=body,
        headers={
            "content-type": content_type,
            "content-length": str(storage.max_request_bytes + 1),
        },
    )
    assert response.status_code == 400
    assert s3_code(response) == "EntityTooLarge"


async def test_fields_after_the_file_are_ignored_like_s3(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    ticket = await ticket_for(storage, min_bytes=10, max_bytes=5000)
    body, content_type = alipay_body(
        ticket.fields, jpeg_like(100), after_file=[("key", "elsewhere/x.jpg"), ("junk", "1")]
    )
    response = await post(client, ticket, body, content_type)
    assert response.status_code == 204, response.text
    assert await storage.size(KEY) == 100
    assert await storage.list_keys("elsewhere/") == []


async def test_not_multipart_is_malformed(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/uploads", content=b"key=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert s3_code(response) == "MalformedPOSTRequest"
    response = await client.post(
        "/uploads",
        content=b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nx\r\n--nonsense',
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    assert s3_code(response) == "InvalidArgument"
    assert files_under(storage.root) == []


async def test_success_action_status_201_returns_xml(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    # A caller-built policy may allow success_action_status, as S3's does.
    ticket = await ticket_for(storage, min_bytes=10, max_bytes=5000)
    policy = json.loads(base64.b64decode(dict(ticket.fields)["policy"]))
    policy["conditions"].append({"success_action_status": "201"})
    policy_b64 = base64.b64encode(json.dumps(policy).encode()).decode()
    fields = replace_field(ticket.fields, "policy", policy_b64)
    fields = replace_field(fields, "signature", storage._sign_policy(policy_b64))
    fields.insert(2, ("success_action_status", "201"))
    body, content_type = alipay_body(fields, jpeg_like(100))
    response = await post(client, ticket, body, content_type)
    assert response.status_code == 201, response.text
    assert f"<Key>{KEY}</Key>" in response.text


async def test_reupload_replaces_atomically(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    for size in (300, 200):  # two tickets for one key (each policy carries one file)
        ticket = await ticket_for(storage, min_bytes=10, max_bytes=5000, expires_in_s=size)
        body, content_type = alipay_body(ticket.fields, jpeg_like(size))
        assert (await post(client, ticket, body, content_type)).status_code == 204
    assert await storage.size(KEY) == 200
    assert [path.name for path in files_under(storage.root / "objects")] == ["up456.jpg"]


# downloads ----------------------------------------------------------------------------------


async def test_signed_download(
    storage: LocalDiskStorage, client: httpx.AsyncClient, clock: Clock
) -> None:
    data = jpeg_like(2048)
    await storage.put(KEY, data, "image/jpeg")
    url = await storage.presign_download(KEY, expires_in_s=300)
    assert url.startswith(f"{BASE_URL}/files/{KEY}?expires=")
    response = await client.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline")
    head = await client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))

    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert s3_code(await client.get(tampered)) == "SignatureDoesNotMatch"
    other = url.replace("up456.jpg", "up457.jpg")
    assert (await client.get(other)).status_code == 403
    assert s3_code(await client.get(f"/files/{KEY}")) == "AccessDenied"

    clock.now += 301
    expired = await client.get(url)
    assert expired.status_code == 403
    assert "expired" in expired.text


async def test_signed_download_of_missing_object(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    url = await storage.presign_download("attachments/none.jpg", expires_in_s=60)
    response = await client.get(url)
    assert response.status_code == 404
    assert s3_code(response) == "NoSuchKey"


async def test_unknown_types_download_as_attachment(
    storage: LocalDiskStorage, client: httpx.AsyncClient
) -> None:
    await storage.put("x/page.html", b"<script>alert(1)</script>", "text/html")
    response = await client.get(await storage.presign_download("x/page.html", expires_in_s=60))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")


# object operations --------------------------------------------------------------------------


async def test_put_read_delete_list(storage: LocalDiskStorage) -> None:
    assert await storage.ping()
    assert await storage.read("a/b/c.jpg") is None
    assert await storage.size("a/b/c.jpg") is None
    await storage.put("a/b/c.jpg", b"one", "image/jpeg")
    await storage.put("a/b/d.jpg", b"three", "image/jpeg")
    await storage.put("a/e.jpg", b"22", "image/jpeg")
    await storage.put("ab/f.jpg", b"4444", "image/jpeg")
    assert await storage.read("a/b/c.jpg") == b"one"
    assert [item.key for item in await storage.list_keys("a/")] == [
        "a/b/c.jpg",
        "a/b/d.jpg",
        "a/e.jpg",
    ]
    assert [item.key for item in await storage.list_keys("a")] == [
        "a/b/c.jpg",
        "a/b/d.jpg",
        "a/e.jpg",
        "ab/f.jpg",
    ]
    assert [item.key for item in await storage.list_keys("a/b/d")] == ["a/b/d.jpg"]
    listed = await storage.list_keys("")
    assert len(listed) == 4
    assert all(item.modified_at.tzinfo is not None for item in listed)
    await storage.delete("a/b/c.jpg")
    await storage.delete("a/b/c.jpg")  # idempotent
    assert await storage.read("a/b/c.jpg") is None
    assert await storage.size("a/b") is None  # a directory is not an object
    assert files_under(storage.root / "tmp") == []
    with pytest.raises(InvalidKey):
        await storage.list_keys("../")


def test_keys_stay_inside_the_root(tmp_path: Path) -> None:
    store = LocalDiskStorage(tmp_path, BASE_URL, SECRET)
    assert store.path_for("a/b.jpg") == tmp_path / "objects" / "a" / "b.jpg"
    with pytest.raises(InvalidKey):
        store.path_for("../../b.jpg")
    with pytest.raises(ValueError):
        LocalDiskStorage(tmp_path, BASE_URL, b"short")


# over a real socket -------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LocalDiskStorage, str]]:
    store = LocalDiskStorage(tmp_path / "served", "http://placeholder", SECRET)
    app = Starlette(routes=local_storage_routes(store))
    with run_asgi_server(app) as base_url:
        store.base_url = base_url
        yield store, base_url


async def test_upload_and_download_over_http(served: tuple[LocalDiskStorage, str]) -> None:
    store, base_url = served
    await store.start()
    ticket = await ticket_for(store)
    assert ticket.url == f"{base_url}/uploads"
    data = jpeg_like(200_000)
    body, content_type = alipay_body(ticket.fields, data)
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(ticket.url, content=body, headers={"content-type": content_type})
        assert response.status_code == 204, response.text
        downloaded = await http.get(await store.presign_download(KEY, expires_in_s=60))
    assert downloaded.status_code == 200
    assert downloaded.content == data


async def test_oversized_upload_over_http_is_refused(served: tuple[LocalDiskStorage, str]) -> None:
    store, _ = served
    await store.start()
    ticket = await ticket_for(store, min_bytes=10, max_bytes=5000)
    body, content_type = alipay_body(ticket.fields, b"\xff" * 8_000_000)
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(ticket.url, content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert s3_code(response) == "EntityTooLarge"
    assert files_under(store.root) == []
