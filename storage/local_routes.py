"""Starlette routes that make :class:`~storage.local.LocalDiskStorage` behave like S3.

``local_storage_routes(storage)`` returns two routes for the app to include at the prefix
that ``storage.base_url`` names:

- ``POST /uploads``: a browser-style POST upload (multipart/form-data; the fields, then the
  file part named ``file``). The form is checked the moment the file part begins; the file
  is then read with a hard cap at the policy's maximum, so an oversized upload is cut off
  after ``max + 1`` bytes instead of being buffered whole. Success is ``204 No Content``
  (or 200/201 when ``success_action_status`` asks, as on S3); failures are S3's status
  codes with a JSON body a phone can show: ``{"code", "message", "s3Code", "detail"}``
  (``message`` Chinese, naming the size limit when the size is wrong; ``s3Code`` and
  ``detail`` what S3 would have said). Fields after the file are ignored, as S3 ignores
  them. Nothing is written unless every condition held.
- ``GET|HEAD /files/{key:path}?expires=...&signature=...``: a signed download.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

import orjson
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from models.errors import ErrorCode, message_for, size_limit_message
from storage.base import StorageError
from storage.local import (
    MAX_PRE_FILE_BYTES,
    AcceptedPost,
    LocalDiskStorage,
    PostPolicyError,
)

_MAX_FIELDS = 32
_MAX_HEADER_SIZE = 4096
_ONE_FILE = "POST requires exactly one file upload per request, in the field named 'file'."


#: codes of the local endpoint's answers that are not FieldError codes
UPLOAD_FORM_INVALID = "UPLOAD_FORM_INVALID"
STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
FILE_NOT_FOUND = "FILE_NOT_FOUND"
_MESSAGES = {
    UPLOAD_FORM_INVALID: "上传请求无效：表单字段缺失或被改动。请重新申请上传，并原样提交返回的全部字段。",
    STORAGE_UNAVAILABLE: "文件存储暂时不可用，请稍后再试。",
    FILE_NOT_FOUND: "文件不存在或已被删除。",
}


def _our_code(status: int, s3_code: str, detail: str) -> tuple[str, str]:
    if s3_code == "EntityTooLarge":
        return ErrorCode.FILE_TOO_LARGE, message_for(ErrorCode.FILE_TOO_LARGE)
    if s3_code == "EntityTooSmall":
        return ErrorCode.FILE_TOO_SMALL, message_for(ErrorCode.FILE_TOO_SMALL)
    if "expired" in detail.lower():
        return ErrorCode.UPLOAD_EXPIRED, "上传已过期，请重新申请上传。"
    if s3_code == "NoSuchKey":
        return FILE_NOT_FOUND, _MESSAGES[FILE_NOT_FOUND]
    if status >= 500:
        return STORAGE_UNAVAILABLE, _MESSAGES[STORAGE_UNAVAILABLE]
    return UPLOAD_FORM_INVALID, _MESSAGES[UPLOAD_FORM_INVALID]


def storage_error(status: int, s3_code: str, detail: str, *, limit: int | None = None) -> Response:
    """An error a phone can show: JSON with our ``code`` and a Chinese ``message`` (naming the
    limit for a size), plus the S3 code and its English detail for developers."""
    code, message = _our_code(status, s3_code, detail)
    if limit is not None and code in (ErrorCode.FILE_TOO_LARGE, ErrorCode.FILE_TOO_SMALL):
        message = size_limit_message(ErrorCode(code), limit)
    request_id = uuid.uuid4().hex[:16].upper()
    body = {"code": str(code), "message": message, "s3Code": s3_code, "detail": detail}
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"x-amz-request-id": request_id},
    )


class _PostForm:
    """Synchronous state machine fed by python-multipart's callbacks.

    Raising :class:`PostPolicyError` from a callback stops the parse at once; the route
    then stops reading the request body.
    """

    def __init__(self, storage: LocalDiskStorage) -> None:
        self._storage = storage
        self.fields: list[tuple[str, str]] = []
        self.accepted: AcceptedPost | None = None
        self.file_chunks: list[bytes] = []
        self.file_size = 0
        self.done = False
        self._pre_file_bytes = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._name = ""
        self._in_file = False
        self._value = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._value = bytearray()
        self._in_file = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name = bytearray()
        self._header_value = bytearray()

    def _headers_finished(self) -> None:
        if self.done:
            return
        _, options = parse_options_header(self._disposition)
        raw_name = options.get(b"name")
        if raw_name is None:
            raise PostPolicyError(
                400, "MalformedPOSTRequest", "A form part has no Content-Disposition name."
            )
        self._name = raw_name.decode("utf-8", errors="replace")
        if b"filename" in options and self._name != "file":
            raise PostPolicyError(400, "InvalidArgument", _ONE_FILE)
        if self._name == "file":
            # Everything the policy needs came before the file: decide now, before reading it.
            self.accepted = self._storage.check_post_form(self.fields)
            self._in_file = True
        elif len(self.fields) >= _MAX_FIELDS:
            raise PostPolicyError(400, "InvalidArgument", "Too many form fields.")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.done:
            return
        size = end - start
        if self._in_file:
            assert self.accepted is not None
            self.file_size += size
            if self.file_size > self.accepted.max_bytes:
                raise PostPolicyError(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                )
            self.file_chunks.append(bytes(data[start:end]))
            return
        self._pre_file_bytes += size
        if self._pre_file_bytes > MAX_PRE_FILE_BYTES:
            raise PostPolicyError(
                400,
                "MaxPostPreDataLengthExceeded",
                "Your POST request fields preceding the upload file were too large.",
            )
        self._value += data[start:end]

    def _part_end(self) -> None:
        if self.done:
            return
        if self._in_file:
            self.done = True  # S3 ignores whatever follows the file
            return
        try:
            value = self._value.decode("utf-8")
        except UnicodeDecodeError:
            raise PostPolicyError(
                400, "InvalidArgument", f"Form field {self._name!r} is not UTF-8."
            ) from None
        self.fields.append((self._name, value))


async def _store(
    storage: LocalDiskStorage, accepted: AcceptedPost, chunks: list[bytes]
) -> Response | None:
    """Write the file once per policy; an error response, or None when it was stored."""
    try:
        if not await storage.claim_policy(accepted):
            return storage_error(403, "AccessDenied", "Invalid according to Policy: already used.")
        await storage.write_atomic(accepted.key, b"".join(chunks))
    except StorageError:
        return storage_error(
            500, "InternalError", "We encountered an internal error. Please try again."
        )
    return None


async def _handle_upload(storage: LocalDiskStorage, request: Request) -> Response:
    mime, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        return storage_error(
            400,
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
        )
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            return storage_error(400, "InvalidArgument", "Invalid Content-Length.")
        if int(declared) > storage.max_request_bytes:
            return storage_error(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
    form = _PostForm(storage)
    try:
        parser = MultipartParser(
            boundary,
            form.callbacks(),  # type: ignore[arg-type]
            max_size=storage.max_request_bytes,
            max_header_size=_MAX_HEADER_SIZE,
        )
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
            if form.done:
                break
        else:
            parser.finalize()
    except PostPolicyError as exc:
        limit = form.accepted.max_bytes if form.accepted else None
        return storage_error(exc.status, exc.code, exc.message, limit=limit)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening; nothing was written
    except FormParserError:
        return storage_error(
            400,
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
        )
    if not form.done or form.accepted is None:
        return storage_error(
            400, "InvalidArgument", "POST requires exactly one file upload per request."
        )
    accepted = form.accepted
    if form.file_size < accepted.min_bytes:
        return storage_error(
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            limit=accepted.min_bytes,
        )
    refused = await _store(storage, accepted, form.file_chunks)
    if refused is not None:
        return refused
    if accepted.success_status == 201:
        location = f"{storage.base_url}/files/{accepted.key}"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
            f"<Location>{escape(location)}</Location><Bucket>local</Bucket>"
            f"<Key>{escape(accepted.key)}</Key></PostResponse>"
        )
        return Response(body, status_code=201, media_type="application/xml")
    return Response(status_code=accepted.success_status)


async def _handle_download(storage: LocalDiskStorage, request: Request) -> Response:
    key = request.path_params["key"]
    try:
        storage.verify_download(
            key,
            request.query_params.get("expires", ""),
            request.query_params.get("signature", ""),
        )
    except PostPolicyError as exc:
        return storage_error(exc.status, exc.code, exc.message)
    path = storage.path_for(key)
    if not path.is_file():
        return storage_error(404, "NoSuchKey", "The specified key does not exist.")
    media_type = storage.media_type_for(key)
    disposition = "inline" if media_type != "application/octet-stream" else "attachment"
    return FileResponse(
        path,
        media_type=media_type,
        filename=key.rsplit("/", 1)[-1],
        content_disposition_type=disposition,
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def local_storage_routes(storage: LocalDiskStorage) -> list[Route]:
    """``POST /uploads`` and ``GET|HEAD /files/{key:path}`` for ``storage``.

    Include them at the prefix that ``storage.base_url`` ends with (the app's root for
    ``http://host:port``), e.g. ``Starlette(routes=[*local_storage_routes(storage), ...])``.
    """

    async def upload(request: Request) -> Response:
        return await _handle_upload(storage, request)

    async def download(request: Request) -> Response:
        return await _handle_download(storage, request)

    return [
        Route("/uploads", upload, methods=["POST"], name="local_storage_upload"),
        Route("/files/{key:path}", download, methods=["GET", "HEAD"], name="local_storage_file"),
    ]
