"""浙里办 / 浙江政务服务网 personal sign-in through the IRS gateway, see protocols.md §3.

Every call carries the IRS "业务协同网关" HMAC headers (§3.1). Two SSO flows exist and the
container decides which one a ticket belongs to, so the flow is configuration:

- ``"ticket"``: the legacy simpleauth flow (§3.2): ``ticketValidation`` then ``getUserInfo``;
- ``"token"``: the unified SSO component (§3.3): ``access_token`` then ``getUserInfo``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import httpx
import structlog

from integrations.identity.base import (
    Clock,
    GatewayClient,
    IdentityError,
    ProviderIdentity,
    check_credential,
    send_with_retry,
    utc_now,
)
from models.clock import CHINA_TZ
from models.errors import ErrorCode

log = structlog.get_logger(__name__)


# simpleauth (flow "ticket") idtype onto our id_document_type codes (军官证 has no code: 99).
SIMPLEAUTH_ID_TYPES: Final[Mapping[str, str]] = {
    "1": "01",  # 身份证
    "2": "04",  # 护照
    "4": "02",  # 港澳通行证
    "5": "03",  # 台胞证
    "6": "05",  # 外国人永久居留证
}
# Unified SSO (flow "token") idType onto our codes. GANG_AO_TAI_RESIDENCE_CART covers both
# 港澳 and 台湾 residence permits; the number's prefix (830000 for 台湾) tells them apart.
SSO_ID_TYPES: Final[Mapping[str, str]] = {
    "ID_CARD": "01",
    "MAINLAND_TRAVEL_PERMIT_FOR_HONGKONG_AND_MACAO_RESIDENTS": "02",
    "MAINLAND_TRAVEL_PERMIT_FOR_TAIWAN_RESIDENTS": "03",
    "PASSPORT": "04",
    "FOREIGN_PASSPORT": "04",
    "DIPLOMACY_PASSPORT": "04",
    "OFFICIAL_PASSPORT": "04",
    "FOREIGN_PERMANENT_RESIDENT_ID_CARD": "05",
}
OTHER_ID_TYPE: Final = "99"

VERIFIED_LEVELS: Final = frozenset({2, 3})  # 2 初级实名, 3 高级实名; 1 is 非实名

# simpleauth results meaning the ticket itself is bad: 6001 expired/used, 6002 not a
# ticket, 6003 issued for another service, 6004 malformed.
_REJECTED_RESULTS: Final = frozenset({"6001", "6002", "6003", "6004"})
_REJECTED_SSO_CODES: Final = frozenset(
    {"C-USER-SSO-TICKET-INVALID", "C-USER-SSO-TOKEN-INVALID", "C-USER-SSO-USER-EMPTY"}
)


@dataclass(frozen=True)
class ZlbConfig:
    gateway_url: str  # e.g. https://ibcdsg.zj.gov.cn:8443 (internet) or https://bcdsg...
    access_key: str  # IRS component AK (BCDSGA_…)
    secret_key: str = field(repr=False)  # IRS component SK
    app_id: str  # IRS 应用发布 appId (flow "token")
    sso_flow: Literal["ticket", "token"]
    timeout_s: float = 5.0
    # simpleauth servicecode/servicepwd; default to the AK/SK (zjzwfw starter), older
    # integrations received a separate 接入码/接入密码.
    service_code: str | None = None
    service_password: str | None = field(default=None, repr=False)
    # Gateway paths of the IRS components (IC codes may differ per environment).
    ticket_validation_path: str = "/restapi/prod/IC33000020220228000002/sso/servlet/simpleauth"
    simpleauth_user_info_path: str = "/restapi/prod/IC33000020220228000004/sso/servlet/simpleauth"
    access_token_path: str = "/restapi/prod/IC33000020220329000007/uc/sso/access_token"
    sso_user_info_path: str = "/restapi/prod/IC33000020220329000008/uc/sso/getUserInfo"


def irs_date(now: datetime) -> str:
    """RFC 1123 date in real UTC, e.g. ``Tue, 09 Nov 2021 08:49:20 GMT``."""
    return format_datetime(now.astimezone(UTC).replace(microsecond=0), usegmt=True)


def canonical_query(query: Mapping[str, str] | list[tuple[str, str]]) -> str:
    pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def irs_signature(
    secret_key: str, method: str, path: str, query: str, access_key: str, date: str
) -> str:
    signing_string = f"{method.upper()}\n{path}\n{query}\n{access_key}\n{date}\n"
    digest = hmac.new(secret_key.encode(), signing_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def irs_headers(
    *,
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    query: Mapping[str, str] | list[tuple[str, str]] | None = None,
    now: datetime,
) -> dict[str, str]:
    """The four §3.1 headers for one request (the body is not signed)."""
    date = irs_date(now)
    signature = irs_signature(
        secret_key, method, path, canonical_query(query or {}), access_key, date
    )
    return {
        "X-BG-HMAC-ACCESS-KEY": access_key,
        "X-BG-HMAC-ALGORITHM": "hmac-sha256",
        "X-BG-DATE-TIME": date,
        "X-BG-HMAC-SIGNATURE": signature,
    }


def simpleauth_sign(service_code: str, service_password: str, time: str) -> str:
    return hashlib.md5(
        (service_code + service_password + time).encode(), usedforsecurity=False
    ).hexdigest()


def map_simpleauth_id_type(value: object) -> str | None:
    text = _text(value)
    return None if text is None else SIMPLEAUTH_ID_TYPES.get(text, OTHER_ID_TYPE)


def map_sso_id_type(value: object) -> str | None:
    text = _text(value)
    return None if text is None else SSO_ID_TYPES.get(text.upper(), OTHER_ID_TYPE)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _level(value: object) -> int | None:
    text = _text(value)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


class ZlbClient(GatewayClient):
    """浙里办 sign-in. Give it a shared ``httpx.AsyncClient`` or let it own one."""

    provider = "zlb"

    def __init__(
        self,
        config: ZlbConfig,
        http: httpx.AsyncClient | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        if config.sso_flow not in ("ticket", "token"):
            raise ValueError(f"unknown 浙里办 SSO flow {config.sso_flow!r}")
        self.config = config
        super().__init__(http)
        self._clock = clock
        self._base = config.gateway_url.rstrip("/")
        self._prefix = urlsplit(self._base).path

    async def authenticate(self, credential: str) -> ProviderIdentity:
        ticket = check_credential("zlb", credential)
        if self.config.sso_flow == "ticket":
            return await self._simpleauth(ticket)
        return await self._unified_sso(ticket)

    # -- transport -------------------------------------------------------------------

    async def _post(
        self, what: str, path: str, *, idempotent: bool, **content: Any
    ) -> dict[str, Any]:
        full_path = self._prefix + path

        async def send() -> httpx.Response:
            # Fresh headers per attempt: the date must stay within the 90 s skew.
            headers = irs_headers(
                access_key=self.config.access_key,
                secret_key=self.config.secret_key,
                method="POST",
                path=full_path,
                now=self._clock(),
            )
            return await self._http.post(
                self._base + path, headers=headers, timeout=self.config.timeout_s, **content
            )

        response = await send_with_retry("zlb", what, send, idempotent=idempotent)
        if response.status_code == 401:
            message = _gateway_message(response)
            log.error("identity.zlb_gateway_refused", call=what, message=message)
            raise IdentityError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"zlb {what}: gateway refused the call ({message})",
                provider_code=message,
            )
        if response.status_code != 200:
            log.error("identity.bad_answer", provider="zlb", call=what, status=response.status_code)
            raise IdentityError(
                ErrorCode.PROVIDER_UNAVAILABLE, f"zlb {what}: HTTP {response.status_code}"
            )
        try:
            answer = json.loads(response.content)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            log.error("identity.bad_answer", provider="zlb", call=what, why="not a JSON object")
            raise IdentityError(ErrorCode.PROVIDER_UNAVAILABLE, f"zlb {what}: answer is not JSON")
        return answer

    # -- flow "ticket": simpleauth ------------------------------------------------------

    def _simpleauth_form(self, method: str, **extra: str) -> dict[str, str]:
        code = self.config.service_code or self.config.access_key
        password = self.config.service_password or self.config.secret_key
        time = self._clock().astimezone(CHINA_TZ).strftime("%Y%m%d%H%M%S")
        return {
            "method": method,
            "servicecode": code,
            "time": time,
            "sign": simpleauth_sign(code, password, time),
            "datatype": "json",
            **extra,
        }

    def _simpleauth_result(self, what: str, answer: Mapping[str, Any]) -> None:
        result = _text(answer.get("result"))
        if result == "0":
            return
        code = (
            ErrorCode.PROVIDER_REJECTED
            if result in _REJECTED_RESULTS
            else ErrorCode.PROVIDER_UNAVAILABLE
        )
        (log.warning if code is ErrorCode.PROVIDER_REJECTED else log.error)(
            "identity.zlb_simpleauth_error", call=what, result=result
        )
        raise IdentityError(code, f"zlb {what}: result {result}", provider_code=result)

    async def _simpleauth(self, ticket: str) -> ProviderIdentity:
        validation = await self._post(
            "ticketValidation",
            self.config.ticket_validation_path,
            idempotent=False,
            data=self._simpleauth_form("ticketValidation", st=ticket),
        )
        self._simpleauth_result("ticketValidation", validation)
        token = _text(validation.get("token"))
        if token is None:
            raise _no_field("ticketValidation", "token")
        user = await self._post(
            "getUserInfo",
            self.config.simpleauth_user_info_path,
            idempotent=True,
            data=self._simpleauth_form("getUserInfo", token=token),
        )
        self._simpleauth_result("getUserInfo", user)
        subject = _text(user.get("userid")) or _text(validation.get("userid"))
        if subject is None:
            raise _no_field("getUserInfo", "userid")
        level = _level(user.get("authlevel"))
        if level not in VERIFIED_LEVELS:
            raise _level_too_low(level)
        return _identity(
            subject,
            name=_text(user.get("username")),
            id_type=map_simpleauth_id_type(user.get("idtype")),
            id_number=_text(user.get("idnum")),
            phone=_text(user.get("mobile")),
        )

    # -- flow "token": unified SSO ----------------------------------------------------

    def _sso_result(self, what: str, answer: Mapping[str, Any]) -> Any:
        if answer.get("success") is True:
            return answer.get("data")
        error_code = _text(answer.get("errorCode")) or "-"
        code = (
            ErrorCode.PROVIDER_REJECTED
            if error_code in _REJECTED_SSO_CODES
            else ErrorCode.PROVIDER_UNAVAILABLE
        )
        (log.warning if code is ErrorCode.PROVIDER_REJECTED else log.error)(
            "identity.zlb_sso_error", call=what, error_code=error_code
        )
        raise IdentityError(code, f"zlb {what}: {error_code}", provider_code=error_code)

    async def _unified_sso(self, ticket: str) -> ProviderIdentity:
        answer = await self._post(
            "access_token",
            self.config.access_token_path,
            idempotent=False,
            json={"ticketId": ticket, "appId": self.config.app_id},
        )
        data = self._sso_result("access_token", answer)
        token = _text(data.get("accessToken")) if isinstance(data, dict) else None
        if token is None:
            raise _no_field("access_token", "accessToken")
        answer = await self._post(
            "getUserInfo",
            self.config.sso_user_info_path,
            idempotent=True,
            json={"token": token},
        )
        data = self._sso_result("getUserInfo", answer)
        if not isinstance(data, dict):
            raise _no_field("getUserInfo", "data")
        user_type = _text(data.get("userType"))
        if user_type != "PERSON":
            log.warning("identity.zlb_not_personal", user_type=user_type)
            raise IdentityError(
                ErrorCode.NOT_A_PERSONAL_ACCOUNT,
                f"zlb getUserInfo: userType {user_type}",
                provider_code=user_type,
            )
        person = data.get("personInfo")
        if not isinstance(person, dict):
            raise _no_field("getUserInfo", "personInfo")
        subject = _text(person.get("userId"))
        if subject is None:
            raise _no_field("getUserInfo", "userId")
        # The unified SSO's documentation seen so far names no real-name level field; when
        # one is present (authLevel, 1/2/3 as in simpleauth) it is enforced.
        raw_level = person.get("authLevel", data.get("authLevel"))
        if raw_level is not None:
            level = _level(raw_level)
            if level not in VERIFIED_LEVELS:
                raise _level_too_low(level)
        return _identity(
            subject,
            name=_text(person.get("userName")),
            id_type=map_sso_id_type(person.get("idType")),
            id_number=_text(person.get("idNo")),
            phone=_text(person.get("phone")),
        )


def _gateway_message(response: httpx.Response) -> str:
    try:
        message = json.loads(response.content).get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message)[:80] if message else f"HTTP {response.status_code}"


def _no_field(what: str, name: str) -> IdentityError:
    log.error("identity.bad_answer", provider="zlb", call=what, missing=name)
    return IdentityError(ErrorCode.PROVIDER_UNAVAILABLE, f"zlb {what}: no {name} in the answer")


def _level_too_low(level: int | None) -> IdentityError:
    log.info("identity.zlb_level_too_low", level=level)
    return IdentityError(
        ErrorCode.REAL_NAME_LEVEL_TOO_LOW,
        f"zlb: real-name level {level}",
        provider_code=f"authlevel={level}",
    )


def _identity(
    subject: str,
    *,
    name: str | None,
    id_type: str | None,
    id_number: str | None,
    phone: str | None,
) -> ProviderIdentity:
    if not (name and id_type and id_number):
        # A real-name account whose fields were not shared: signed in, not verified.
        return ProviderIdentity("zlb", subject, False, None, None, None, phone)
    return ProviderIdentity("zlb", subject, True, name, id_type, id_number.upper(), phone)
