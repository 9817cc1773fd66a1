"""Uploading proofs the way the mini-program does: request a ticket, POST multipart/form-data
to its URL (fields first, the file last as ``file``), confirm."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import httpx
from PIL import Image

from tests.api import Api
from tests.images import jpeg, page, portrait

REQUEST = """mutation($input: RequestAttachmentUploadInput!) { requestAttachmentUpload(input: $input) {
  upload { id url fields { name value } expiresAt maxBytes } errors { field code message } } }"""
CONFIRM = """mutation($input: ConfirmAttachmentUploadInput!) { confirmAttachmentUpload(input: $input) {
  attachment { id kind status width height byteSize previewUrl url }
  registration { id version status requiredAttachments { kind satisfied } attachments { id kind } }
  errors { field code message } } }"""


@cache
def photo_bytes() -> bytes:
    return jpeg(portrait((640, 960)))


@cache
def document_bytes() -> bytes:
    return jpeg(page())


def file_for(kind: str) -> bytes:
    return photo_bytes() if kind == "ID_PHOTO" else document_bytes()


async def request_upload(
    api: Api, registration_id: str, kind: str, size: int, content_type: str = "image/jpeg"
) -> dict[str, Any]:
    data = await api.data(
        REQUEST,
        {
            "input": {
                "registrationId": registration_id,
                "kind": kind,
                "contentType": content_type,
                "byteSize": size,
            }
        },
    )
    return data["requestAttachmentUpload"]  # type: ignore[no-any-return]


async def post_file(api: Api, ticket: dict[str, Any], content: bytes) -> httpx.Response:
    """The mini-program's my.uploadFile: a multipart POST to the ticket's URL."""
    fields = [(f["name"], f["value"]) for f in ticket["fields"]]
    files = {"file": ("photo.jpg", content, "image/jpeg")}
    url: str = ticket["url"]
    if url.startswith("http://testserver"):  # the app's own local-storage endpoint
        return await api.http.post(url, data=dict(fields), files=files)
    async with httpx.AsyncClient() as client:
        return await client.post(url, data=dict(fields), files=files)


async def confirm(api: Api, upload_id: str) -> dict[str, Any]:
    data = await api.data(CONFIRM, {"input": {"uploadId": upload_id}})
    return data["confirmAttachmentUpload"]  # type: ignore[no-any-return]


async def upload(
    api: Api, registration_id: str, kind: str, content: bytes | None = None
) -> dict[str, Any]:
    """Request, POST and confirm one file; returns the confirm payload (asserting the POST worked)."""
    content = content if content is not None else file_for(kind)
    requested = await request_upload(api, registration_id, kind, len(content))
    assert requested["errors"] == [], requested["errors"]
    response = await post_file(api, requested["upload"], content)
    assert response.status_code in (200, 201, 204), response.text
    return await confirm(api, requested["upload"]["id"])


async def upload_all(api: Api, registration: dict[str, Any]) -> dict[str, Any]:
    """Upload every required proof; returns the registration after the last confirm."""
    current = registration
    for item in registration["requiredAttachments"]:
        payload = await upload(api, registration["id"], item["kind"])
        assert payload["errors"] == [], payload["errors"]
        current = payload["registration"]
    return current


def image_of(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content))
