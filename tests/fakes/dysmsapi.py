"""A fake Aliyun Dysmsapi (``SendSms``) for tests, served over real HTTP on 127.0.0.1.

It checks requests the way the gateway does, independently of ``integrations.sms.aliyun``:

* the RPC signature v2 is recomputed from the raw query string and form body (a ``+`` in
  place of ``%20`` is rejected); unknown key → ``InvalidAccessKeyId.NotFound`` (404);
  wrong signature → ``SignatureDoesNotMatch`` (400);
* ``Timestamp`` must be within ``timestamp_window_s`` of the fake's clock
  (``InvalidTimeStamp.Expired``) and each ``SignatureNonce`` is accepted once
  (``SignatureNonceUsed``);
* business checks answer HTTP 200 with ``isv.MOBILE_NUMBER_ILLEGAL``,
  ``isv.SMS_SIGNATURE_ILLEGAL``, ``isv.SMS_TEMPLATE_ILLEGAL``, ``isv.INVALID_JSON_PARAM``
  (a non-object or a non-string value) or ``isv.TEMPLATE_MISSING_PARAMETERS``.

Accepted messages are recorded in ``messages``. Tests script the next answers with
``answer_throttled()``, ``answer_error()``, ``answer_http_500()`` and ``delay_next()``; a
delayed request is then processed normally (as Aliyun may deliver after a client timeout),
even when the client has gone away meanwhile. The script applies to ``SendSms`` only.

``QuerySendDetails`` (``PhoneNumber``, ``SendDate`` yyyyMMdd in China time, ``PageSize``
1-50, ``CurrentPage``, optional ``BizId``) answers from ``messages`` in Aliyun's shape
(``TotalCount``, ``SmsSendDetailDTOs.SmsSendDetailDTO[]`` with ``OutId``, ``SendStatus`` 3
= delivered); ``answer_query_error()`` scripts its next answer and ``query_requests`` counts
the queries.

``serve_fake_dysmsapi(fake)`` runs it with ``tests.fakes.server.run_asgi_server`` (uvicorn
in a background thread, 127.0.0.1, free port) and yields the endpoint URL; the server stops
when the block exits.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.server import run_asgi_server

_PHONE = re.compile(r"^(?:\+86|0086|86)?1[3-9]\d{9}$")
_CHINA_TIME = timezone(timedelta(hours=8))
_REQUIRED = (
    "AccessKeyId",
    "Action",
    "Version",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
)


@dataclass(frozen=True)
class ReceivedSms:
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str | None
    biz_id: str
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class _Answer:
    kind: str  # "error" | "http500" | "delay"
    code: str = ""
    message: str = ""
    status: int = 200
    seconds: float = 0.0


def fake_percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def fake_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """The gateway's own computation of the v2 signature."""
    canonical = "&".join(
        f"{fake_percent_encode(k)}={fake_percent_encode(params[k])}"
        for k in sorted(params)
        if k != "Signature"
    )
    to_sign = f"{method}&{fake_percent_encode('/')}&{fake_percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class FakeDysmsapi:
    access_keys: dict[str, str]
    sign_names: set[str] = field(default_factory=lambda: {"浙江会计登记"})
    templates: dict[str, set[str]] = field(default_factory=dict)
    """Template code → the variable names it needs."""
    timestamp_window_s: float = 900.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    messages: list[ReceivedSms] = field(default_factory=list)
    requests: int = 0
    """SendSms requests received (whatever the answer)."""
    query_requests: int = 0
    """QuerySendDetails requests received (whatever the answer)."""
    rejections: list[str] = field(default_factory=list)
    """The error code of every rejected request, in order."""
    _nonces: set[str] = field(default_factory=set)
    _script: deque[_Answer] = field(default_factory=deque)
    _query_script: deque[_Answer] = field(default_factory=deque)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self._handle, methods=["GET", "POST"])])

    # -- scripting -------------------------------------------------------------------------
    def answer_throttled(self, code: str = "isv.BUSINESS_LIMIT_CONTROL") -> None:
        """The next SendSms answers with a rate-limit code (HTTP 200, like Aliyun)."""
        self.answer_error(code, "触发分钟级流控Permits:1")

    def answer_error(self, code: str, message: str = "error", status: int = 200) -> None:
        with self._lock:
            self._script.append(_Answer("error", code=code, message=message, status=status))

    def answer_http_500(self) -> None:
        with self._lock:
            self._script.append(_Answer("http500"))

    def delay_next(self, seconds: float) -> None:
        with self._lock:
            self._script.append(_Answer("delay", seconds=seconds))

    def answer_query_error(self, code: str, message: str = "error", status: int = 200) -> None:
        """The next QuerySendDetails answers with ``code``."""
        with self._lock:
            self._query_script.append(_Answer("error", code=code, message=message, status=status))

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.rejections.clear()
            self._script.clear()
            self._query_script.clear()
            self._nonces.clear()
            self.requests = 0
            self.query_requests = 0

    def sent_with_out_id(self, out_id: str) -> list[ReceivedSms]:
        with self._lock:
            return [m for m in self.messages if m.out_id == out_id]

    # -- the gateway -----------------------------------------------------------------------
    def _error(self, status: int, code: str, message: str) -> JSONResponse:
        self.rejections.append(code)
        return JSONResponse(
            {
                "RequestId": f"fake-req-{next(self._ids)}",
                "HostId": "dysmsapi.aliyuncs.com",
                "Code": code,
                "Message": message,
            },
            status_code=status,
        )

    async def _handle(self, request: Request) -> Response:
        params_or_error = await self._read_params(request)
        if isinstance(params_or_error, Response):
            return params_or_error
        params = params_or_error
        refusal = self._check_signed_request(request.method, params)
        if refusal is not None:
            return refusal
        action = params["Action"]
        with self._lock:
            if action == "QuerySendDetails":
                self.query_requests += 1
            else:
                self.requests += 1
        if action not in ("SendSms", "QuerySendDetails"):
            return self._error(404, "InvalidAction.NotFound", "Specified api is not found")
        if params["Version"] != "2017-05-25":
            return self._error(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if action == "QuerySendDetails":
            return self._answer_query(params)
        return await self._answer_send(params)

    async def _read_params(self, request: Request) -> dict[str, str] | Response:
        """The RPC parameters from the query string and a form body, percent-decoded."""
        raw_parts = [request.url.query]
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            raw_parts.append((await request.body()).decode("utf-8", "replace"))
        raw = "&".join(part for part in raw_parts if part)
        if "+" in raw:
            return self._error(400, "SignatureDoesNotMatch", "'+' is not a valid encoding")
        params: dict[str, str] = {}
        for pair in raw.split("&"):
            if pair:
                name, _, value = pair.partition("=")
                params[unquote(name)] = unquote(value)
        return params

    def _check_signed_request(self, method: str, params: dict[str, str]) -> Response | None:
        """What Aliyun checks before the action: fields, key, time stamp, signature, nonce."""
        for name in _REQUIRED:
            if not params.get(name):
                return self._error(400, f"Missing{name}", f"{name} is mandatory")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return self._error(400, "InvalidParameter", "unsupported signature method")
        secret = self.access_keys.get(params["AccessKeyId"])
        if secret is None:
            return self._error(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return self._error(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
        if abs((self.clock() - stamp).total_seconds()) > self.timestamp_window_s:
            return self._error(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        expected = fake_signature(method, params, secret)
        if not hmac.compare_digest(expected, params["Signature"]):
            return self._error(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        with self._lock:
            nonce_used = params["SignatureNonce"] in self._nonces
            self._nonces.add(params["SignatureNonce"])
        if nonce_used:
            return self._error(
                400, "SignatureNonceUsed", "Specified signature nonce was used already."
            )
        return None

    def _answer_query(self, params: dict[str, str]) -> Response:
        with self._lock:
            query_scripted = self._query_script.popleft() if self._query_script else None
        if query_scripted is not None:
            return self._error(query_scripted.status, query_scripted.code, query_scripted.message)
        return self._query_send_details(params)

    async def _answer_send(self, params: dict[str, str]) -> Response:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None and scripted.kind == "delay":
            await asyncio.sleep(scripted.seconds)
            scripted = None
        if scripted is not None and scripted.kind == "http500":
            self.rejections.append("HTTP500")
            return PlainTextResponse("Internal Server Error", status_code=500)
        if scripted is not None:
            return self._error(scripted.status, scripted.code, scripted.message)
        return self._send_sms(params)

    def _send_sms(self, params: dict[str, str]) -> Response:
        phones = [p.strip() for p in params.get("PhoneNumbers", "").split(",") if p.strip()]
        if not phones or len(phones) > 1000 or not all(_PHONE.match(p) for p in phones):
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if params.get("SignName") not in self.sign_names:
            return self._error(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        template = params.get("TemplateCode", "")
        if template not in self.templates:
            return self._error(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        values: Any = {}
        if "TemplateParam" in params:
            try:
                values = json.loads(params["TemplateParam"])
            except ValueError:
                return self._error(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法")
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                return self._error(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not self.templates[template] <= set(values):
            return self._error(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
        biz_id = f"{next(self._ids):06d}^0"
        with self._lock:
            for phone in phones:
                self.messages.append(
                    ReceivedSms(
                        phone=phone,
                        sign_name=params["SignName"],
                        template_code=template,
                        params=dict(values),
                        out_id=params.get("OutId"),
                        biz_id=biz_id,
                        sent_at=self.clock(),
                    )
                )
        return JSONResponse(
            {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": f"fake-req-{biz_id}"}
        )

    def _query_send_details(self, params: dict[str, str]) -> Response:
        phone = params.get("PhoneNumber", "").strip()
        if not phone:
            return self._error(400, "MissingPhoneNumber", "PhoneNumber is mandatory")
        if not _PHONE.match(phone):
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        send_date = params.get("SendDate", "")
        if not re.fullmatch(r"\d{8}", send_date):
            return self._error(400, "isv.INVALID_PARAMETERS", "SendDate must be yyyyMMdd")
        try:
            page_size = int(params.get("PageSize", ""))
            current_page = int(params.get("CurrentPage", ""))
        except ValueError:
            return self._error(400, "isv.INVALID_PARAMETERS", "PageSize and CurrentPage")
        if not 1 <= page_size <= 50 or current_page < 1:
            return self._error(400, "isv.INVALID_PARAMETERS", "PageSize is 1-50")
        wanted = phone[-11:]
        biz_id = params.get("BizId")
        with self._lock:
            matching = [
                m
                for m in self.messages
                if m.phone[-11:] == wanted
                and m.sent_at.astimezone(_CHINA_TIME).strftime("%Y%m%d") == send_date
                and (not biz_id or m.biz_id == biz_id)
            ]
        start = (current_page - 1) * page_size
        page = matching[start : start + page_size]
        return JSONResponse(
            {
                "Code": "OK",
                "Message": "OK",
                "RequestId": f"fake-req-q{next(self._ids)}",
                "TotalCount": len(matching),
                "SmsSendDetailDTOs": {
                    "SmsSendDetailDTO": [
                        {
                            "PhoneNum": m.phone,
                            "SendStatus": 3,
                            "ErrCode": "DELIVERED",
                            "TemplateCode": m.template_code,
                            "Content": f"【{m.sign_name}】",
                            "SendDate": m.sent_at.astimezone(_CHINA_TIME).strftime(
                                "%Y-%m-%d %H:%M:%S"
                            ),
                            "ReceiveDate": m.sent_at.astimezone(_CHINA_TIME).strftime(
                                "%Y-%m-%d %H:%M:%S"
                            ),
                            "OutId": m.out_id,
                        }
                        for m in page
                    ]
                },
            }
        )


@contextmanager
def serve_fake_dysmsapi(fake: FakeDysmsapi) -> Iterator[str]:
    """Serve ``fake`` over HTTP; yields the endpoint URL (ends with ``/``)."""
    with run_asgi_server(fake.app) as base_url:
        yield f"{base_url}/"
