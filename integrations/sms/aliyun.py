"""Aliyun SMS (Dysmsapi 2017-05-25 ``SendSms``) with the RPC signature v2 (HMAC-SHA1).

One request per message, POSTed as an ``application/x-www-form-urlencoded`` body (so the
phone number never sits in a URL that a proxy might log). The body is exactly the canonical
query string that is signed, with ``Signature`` appended.

Answer mapping (see ``classify``):

* ``OK`` → ``sent`` (``provider_id`` = ``BizId``);
* rate limits (``isv.BUSINESS_LIMIT_CONTROL``, ``isv.DAY_LIMIT_CONTROL`` and any other
  ``*LIMIT_CONTROL``, ``Throttling*``), provider faults (``isp.SYSTEM_ERROR``,
  ``ServiceUnavailable``, ``InternalError``), a reused nonce, HTTP 429/5xx, timeouts and
  transport errors → ``retry_later``;
* everything else (bad number, template, signature, parameters, account, credentials,
  clock skew, unknown codes) → ``failed``.

Aliyun has no idempotency: after a timeout the message may have gone out anyway. The
``OutId`` (= ``dedupe_key``) lets the caller look the message up before retrying:
``query_send_details`` is ``QuerySendDetails`` (one phone, one ``SendDate`` in China time,
paged) and ``find_sent`` searches it for an ``OutId`` over the days a send may have happened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx
import structlog

from integrations.sms.base import (
    TEMPLATE_APPROVED,
    TEMPLATE_RETURNED,
    SmsMessage,
    SmsResult,
    SmsStatus,
)
from models.clock import CHINA_TZ, utcnow

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"

_RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "isv.SYSTEM_ERROR",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",  # a fresh nonce on the next attempt fixes it
    }
)
_LONG_NUMBER = re.compile(r"\d{7,}")
"""Aliyun's ``SendDate`` is a calendar day in China Standard Time (no daylight saving)."""
QUERY_PAGE_SIZE = 50
"""The largest page ``QuerySendDetails`` returns."""
_MAX_QUERY_PAGES = 20

_log = structlog.get_logger("integrations.sms.aliyun")


@dataclass(frozen=True, slots=True)
class AliyunSmsConfig:
    """Settings for ``AliyunSmsSender``.

    ``template_approved`` / ``template_returned`` are the console template codes
    (``SMS_…``) for ``TEMPLATE_APPROVED`` / ``TEMPLATE_RETURNED``; the console templates must
    use the variables of ``integrations.sms.base.TEMPLATE_TEXTS``.
    """

    endpoint_url: str
    access_key_id: str
    access_key_secret: str = field(repr=False)
    sign_name: str
    template_approved: str
    template_returned: str
    timeout_s: float = 5.0
    region_id: str = "cn-hangzhou"


@dataclass(frozen=True, slots=True)
class SendDetail:
    """One record of ``QuerySendDetails``.

    ``send_status``: 1 waiting for the carrier's receipt, 2 failed, 3 delivered.
    """

    out_id: str | None
    biz_id: str | None
    send_status: int
    err_code: str | None
    template_code: str | None
    send_date: str | None


@dataclass(frozen=True, slots=True)
class SendDetails:
    """One page of ``QuerySendDetails``; ``status`` as for a send (``ok`` on success)."""

    status: Literal["ok", "retry_later", "failed"]
    records: tuple[SendDetail, ...]
    total: int
    detail: str


@dataclass(frozen=True, slots=True)
class SentLookup:
    """Whether a message with a given ``OutId`` reached the provider.

    ``found``: it did (``record`` says how it went); ``not_found``: no record on the days
    searched; ``unknown``: the provider could not be asked (try again later).
    """

    outcome: Literal["found", "not_found", "unknown"]
    record: SendDetail | None
    detail: str


def send_dates(since: datetime, until: datetime) -> list[date]:
    """The China-time days from ``since`` to ``until`` (inclusive), oldest first, at most 30
    (``QuerySendDetails`` keeps 30 days)."""
    first = since.astimezone(CHINA_TZ).date()
    last = until.astimezone(CHINA_TZ).date()
    first = max(first, last - timedelta(days=29))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun's signature wants it: only ``A-Za-z0-9-_.~`` stay.

    Space becomes ``%20`` (never ``+``), ``*`` becomes ``%2A``, ``~`` is kept; UTF-8 bytes.
    """
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """All parameters except ``Signature``, sorted by name, encoded, joined with ``&``."""
    return "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}"
        for name in sorted(params)
        if name != "Signature"
    )


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD & pe("/") & pe(canonical_query)``."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign_v2(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """``base64(HMAC-SHA1(secret + "&", StringToSign))``."""
    key = (access_key_secret + "&").encode()
    digest = hmac.new(key, string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_timestamp(now: datetime) -> str:
    """UTC ``yyyy-MM-ddTHH:mm:ssZ``."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def classify(http_status: int, code: str | None) -> SmsStatus:
    """Map an answer (HTTP status and Aliyun ``Code``, if any) to a status."""
    if code == "OK" and http_status == 200:
        return "sent"
    if code is not None and (
        code in _RETRY_CODES or code.startswith("Throttling") or code.endswith("LIMIT_CONTROL")
    ):
        return "retry_later"
    if http_status == 429 or http_status >= 500:
        return "retry_later"
    return "failed"


def _scrub(text: str) -> str:
    """Hide anything that could be a phone number in a provider message."""
    return _LONG_NUMBER.sub("****", text)


def _new_nonce() -> str:
    return str(uuid.uuid4())


class AliyunSmsSender:
    """``SmsSender`` for Aliyun. One attempt per ``send``; never raises for provider errors.

    Pass ``client`` to share an ``httpx.AsyncClient`` (then closing it is yours); otherwise
    the sender owns one, closed by ``aclose()`` or ``async with``.
    """

    def __init__(
        self,
        config: AliyunSmsConfig,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utcnow,
        nonce_factory: Callable[[], str] = _new_nonce,
    ) -> None:
        self._config = config
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._clock = clock
        self._nonce = nonce_factory
        self._templates = {
            TEMPLATE_APPROVED: config.template_approved,
            TEMPLATE_RETURNED: config.template_returned,
        }

    async def ping(self) -> bool:
        """Open for sending; dysmsapi itself is only reached by a real message."""
        return not self._client.is_closed

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AliyunSmsSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def provider_template(self, template_code: str) -> str:
        """The console template code for a logical one; unknown codes pass through as-is."""
        return self._templates.get(template_code, template_code)

    def _common_params(self, action: str) -> dict[str, str]:
        cfg = self._config
        return {
            "AccessKeyId": cfg.access_key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": cfg.region_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self._nonce(),
            "SignatureVersion": "1.0",
            "Timestamp": aliyun_timestamp(self._clock()),
            "Version": API_VERSION,
        }

    def signed_params(self, msg: SmsMessage, method: str = "POST") -> dict[str, str]:
        """All request parameters for ``msg``, including ``Signature``."""
        cfg = self._config
        params = self._common_params("SendSms") | {
            "OutId": msg.dedupe_key,
            "PhoneNumbers": msg.phone.strip(),
            "SignName": cfg.sign_name,
            "TemplateCode": self.provider_template(msg.template_code),
        }
        if msg.params:
            params["TemplateParam"] = json.dumps(
                msg.params, ensure_ascii=False, separators=(",", ":")
            )
        params["Signature"] = sign_v2(method, params, cfg.access_key_secret)
        return params

    async def _post(self, params: dict[str, str]) -> httpx.Response:
        body = canonical_query(params) + "&Signature=" + percent_encode(params["Signature"])
        return await self._client.post(
            self._config.endpoint_url,
            content=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            timeout=self._config.timeout_s,
        )

    async def send(self, msg: SmsMessage) -> SmsResult:
        params = self.signed_params(msg, "POST")
        log = _log.bind(
            dedupe_key=msg.dedupe_key, template=params["TemplateCode"], provider="aliyun"
        )
        try:
            response = await self._post(params)
        except httpx.TimeoutException as exc:
            detail = (
                f"timeout after {self._config.timeout_s}s ({type(exc).__name__}); "
                "the message may have been sent"
            )
            log.warning("integrations.sms.aliyun.timeout", detail=detail)
            return SmsResult(status="retry_later", provider_id=None, detail=detail)
        except httpx.HTTPError as exc:
            detail = f"transport error: {type(exc).__name__}"
            log.warning("integrations.sms.aliyun.transport_error", detail=detail)
            return SmsResult(status="retry_later", provider_id=None, detail=detail)

        data = _json_object(response)
        code = _str_or_none(data.get("Code"))
        message = _scrub(_str_or_none(data.get("Message")) or "")
        status = classify(response.status_code, code)
        provider_id = _str_or_none(data.get("BizId")) if status == "sent" else None
        if code is None:
            detail = f"HTTP {response.status_code} without an Aliyun code"
        else:
            detail = f"{code}: {message}" if message else code
        log.info(
            "integrations.sms.aliyun.answer",
            status=status,
            http_status=response.status_code,
            code=code,
            request_id=_str_or_none(data.get("RequestId")),
        )
        return SmsResult(status=status, provider_id=provider_id, detail=detail)

    async def query_send_details(
        self,
        phone: str,
        send_date: date,
        *,
        biz_id: str | None = None,
        page: int = 1,
        page_size: int = QUERY_PAGE_SIZE,
    ) -> SendDetails:
        """One page of ``QuerySendDetails``: what was sent to ``phone`` on ``send_date`` (a
        China-time day). Never raises for provider or network failures."""
        params = self._common_params("QuerySendDetails") | {
            "PhoneNumber": phone.strip(),
            "SendDate": send_date.strftime("%Y%m%d"),
            "PageSize": str(page_size),
            "CurrentPage": str(page),
        }
        if biz_id:
            params["BizId"] = biz_id
        params["Signature"] = sign_v2("POST", params, self._config.access_key_secret)
        try:
            response = await self._post(params)
        except httpx.HTTPError as exc:
            detail = f"query failed: {type(exc).__name__}"
            _log.warning("integrations.sms.aliyun.query_error", detail=detail, provider="aliyun")
            return SendDetails(status="retry_later", records=(), total=0, detail=detail)
        data = _json_object(response)
        code = _str_or_none(data.get("Code"))
        status = classify(response.status_code, code)
        if status != "sent":
            message = _scrub(_str_or_none(data.get("Message")) or "")
            detail = f"{code}: {message}" if code else f"HTTP {response.status_code}"
            _log.warning(
                "integrations.sms.aliyun.query_refused", status=status, code=code, provider="aliyun"
            )
            return SendDetails(status=status, records=(), total=0, detail=detail)
        container = data.get("SmsSendDetailDTOs")
        raw = container.get("SmsSendDetailDTO") if isinstance(container, dict) else None
        records = tuple(
            SendDetail(
                out_id=_str_or_none(item.get("OutId")),
                biz_id=_str_or_none(item.get("BizId")),
                send_status=_int(item.get("SendStatus")),
                err_code=_str_or_none(item.get("ErrCode")),
                template_code=_str_or_none(item.get("TemplateCode")),
                send_date=_str_or_none(item.get("SendDate")),
            )
            for item in (raw if isinstance(raw, list) else [])
            if isinstance(item, dict)
        )
        return SendDetails(
            status="ok", records=records, total=_int(data.get("TotalCount")), detail="OK"
        )

    async def find_sent(self, phone: str, out_id: str, dates: Sequence[date]) -> SentLookup:
        """Look for a message with ``OutId`` = ``out_id`` sent to ``phone`` on any of
        ``dates``, newest day first. ``unknown`` when the provider could not be asked."""
        for day in sorted(set(dates), reverse=True):
            page = 1
            seen = 0
            while page <= _MAX_QUERY_PAGES:
                result = await self.query_send_details(phone, day, page=page)
                if result.status != "ok":
                    return SentLookup("unknown", None, result.detail)
                for record in result.records:
                    if record.out_id == out_id:
                        return SentLookup(
                            "found", record, f"found (SendStatus {record.send_status})"
                        )
                seen += len(result.records)
                if not result.records or seen >= result.total:
                    break
                page += 1
        return SentLookup("not_found", None, "no record with this OutId")


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return 0


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
