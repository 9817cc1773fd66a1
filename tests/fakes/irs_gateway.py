"""A fake IRS "业务协同网关" with the 浙里办 / 浙江政务服务网 personal SSO behind it.

The gateway part checks the four ``X-BG-*`` HMAC headers on every call (protocols.md §3.1):
unknown access key, bad signature (the canonical query is signed, the body is not), a date
more than 90 s off, and a route not granted to the key each give the gateway's 401 answer.

Behind it sit both SSO flows:
- simpleauth (§3.2): ``ticketValidation`` (IC…0002) then ``getUserInfo`` (IC…0004), with the
  md5 ``sign`` and ``time`` checks and results 6001/6002/6003/6004;
- the unified SSO (§3.3): ``access_token`` (IC…0007) then ``getUserInfo`` (IC…0008), with
  tickets bound to an IRS appId and the ``C-USER-SSO-*`` error codes.

Users have a real-name level (1/2/3), an ID type and may be legal-person accounts.
``faults`` injects a delay, an HTTP error or garbage per route (``"ticketValidation"``,
``"simpleauth.getUserInfo"``, ``"access_token"``, ``"sso.getUserInfo"``) or for all (``"*"``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BEIJING = timezone(timedelta(hours=8))

TICKET_VALIDATION_IC = "IC33000020220228000002"
SIMPLEAUTH_USER_IC = "IC33000020220228000004"
ACCESS_TOKEN_IC = "IC33000020220329000007"
SSO_USER_IC = "IC33000020220329000008"
ALL_ROUTES = frozenset({TICKET_VALIDATION_IC, SIMPLEAUTH_USER_IC, ACCESS_TOKEN_IC, SSO_USER_IC})

# unified idType -> simpleauth idtype
SIMPLEAUTH_IDTYPE = {
    "ID_CARD": "1",
    "PASSPORT": "2",
    "OFFICER_CARD": "3",
    "MAINLAND_TRAVEL_PERMIT_FOR_HONGKONG_AND_MACAO_RESIDENTS": "4",
    "MAINLAND_TRAVEL_PERMIT_FOR_TAIWAN_RESIDENTS": "5",
    "FOREIGN_PERMANENT_RESIDENT_ID_CARD": "6",
}
_ST_RE = re.compile(r"ST-[0-9a-f]{32}")


@dataclass
class ZlbUser:
    user_id: str
    login_name: str
    name: str
    id_number: str
    phone: str
    id_type: str = "ID_CARD"  # unified SSO name; simpleauth gets the matching number
    auth_level: int = 3  # 1 非实名, 2 初级实名, 3 高级实名
    user_type: Literal["PERSON", "LEGAL_PERSON"] = "PERSON"
    report_level_in_sso: bool = True  # put ``authLevel`` into the unified personInfo


@dataclass
class IrsFault:
    delay_s: float = 0.0
    http_status: int | None = None  # e.g. 502 / 504 with an HTML page
    garbage: bool = False  # HTTP 200 with a non-JSON body


@dataclass
class _Ticket:
    user: ZlbUser
    audience: str  # servicecode (simpleauth) or appId (unified)
    expires_at: float
    used: bool = False


def hmac_signature(secret_key: str, signing_string: str) -> str:
    digest = hmac.new(secret_key.encode(), signing_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class FakeIrsGateway:
    credentials: dict[str, str]  # AK -> SK
    app_ids: set[str]  # IRS apps registered for the unified SSO
    # AK -> IC codes the key may call; an AK missing here may call every route
    grants: dict[str, set[str]] = field(default_factory=dict)
    # simpleauth servicecode -> servicepwd; empty: the AK/SK pairs
    service_accounts: dict[str, str] = field(default_factory=dict)
    max_clock_skew_s: float = 90.0
    simpleauth_time_tolerance_s: float = 600.0
    ticket_ttl_s: float = 300.0
    token_ttl_s: float = 1800.0
    clock: Callable[[], float] = time.time
    faults: dict[str, IrsFault] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # route names, in order

    def __post_init__(self) -> None:
        self._default_skew = self.max_clock_skew_s
        self._default_time_tolerance = self.simpleauth_time_tolerance_s
        self._default_grants = {k: set(v) for k, v in self.grants.items()}
        self._lock = threading.Lock()
        self._tickets: dict[str, _Ticket] = {}
        self._tokens: dict[str, tuple[ZlbUser | None, float]] = {}
        self.app = Starlette(
            routes=[
                Route("/restapi/prod/{ic}/{rest:path}", self._endpoint, methods=["GET", "POST"])
            ]
        )

    # -- test controls -----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the construction settings, without faults; issued tickets stay valid."""
        self.max_clock_skew_s = self._default_skew
        self.simpleauth_time_tolerance_s = self._default_time_tolerance
        self.grants = {k: set(v) for k, v in self._default_grants.items()}
        self.faults.clear()
        self.calls.clear()
        self.clock = time.time

    def issue_simpleauth_ticket(
        self, user: ZlbUser, service_code: str, ttl_s: float | None = None
    ) -> str:
        """The ``st`` that puser.zjzwfw.gov.cn appends to the redirect URL."""
        ticket = "ST-" + secrets.token_hex(16)
        self._add_ticket(ticket, user, service_code, ttl_s)
        return ticket

    def issue_sso_ticket(self, user: ZlbUser, app_id: str, ttl_s: float | None = None) -> str:
        """The ``ticketId`` that ``ZWJSBridge.ssoTicket`` returns."""
        ticket = "debug_tk_" + secrets.token_hex(16)
        self._add_ticket(ticket, user, app_id, ttl_s)
        return ticket

    def delete_user_behind_tokens(self) -> None:
        """Make every issued token point at no user (C-USER-SSO-USER-EMPTY)."""
        with self._lock:
            self._tokens = {k: (None, exp) for k, (_, exp) in self._tokens.items()}

    def _add_ticket(self, ticket: str, user: ZlbUser, audience: str, ttl_s: float | None) -> None:
        ttl = self.ticket_ttl_s if ttl_s is None else ttl_s
        with self._lock:
            self._tickets[ticket] = _Ticket(user, audience, self.clock() + ttl)

    # -- the gateway -----------------------------------------------------------------------

    @staticmethod
    def signing_string(
        method: str, path: str, query: list[tuple[str, str]], ak: str, date: str
    ) -> str:
        canonical = "&".join(f"{k}={v}" for k, v in sorted(query))
        return f"{method.upper()}\n{path}\n{canonical}\n{ak}\n{date}\n"

    def _check_hmac(self, request: Request, ic: str) -> Response | None:
        def refuse(message: str) -> Response:
            return JSONResponse({"message": message}, 401)

        ak = request.headers.get("x-bg-hmac-access-key", "")
        secret = self.credentials.get(ak)
        if secret is None:
            return refuse("Invalid access key")
        if request.headers.get("x-bg-hmac-algorithm", "").lower() != "hmac-sha256":
            return refuse("Invalid signature")
        date = request.headers.get("x-bg-date-time", "")
        try:
            sent_at = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return refuse("Invalid signature")
        if (
            sent_at.tzinfo is None
            or abs(sent_at.timestamp() - self.clock()) > self.max_clock_skew_s
        ):
            return refuse("Clock skew exceeded")
        expected = hmac_signature(
            secret,
            self.signing_string(
                request.method, request.url.path, request.query_params.multi_items(), ak, date
            ),
        )
        if not hmac.compare_digest(expected, request.headers.get("x-bg-hmac-signature", "")):
            return refuse("Invalid signature")
        granted = self.grants.get(ak, ALL_ROUTES)
        if ic not in granted:
            return refuse("The route_id is forbidden.")
        return None

    async def _endpoint(self, request: Request) -> Response:
        ic = request.path_params["ic"]
        rest = request.path_params["rest"]
        route = {
            (TICKET_VALIDATION_IC, "sso/servlet/simpleauth"): "ticketValidation",
            (SIMPLEAUTH_USER_IC, "sso/servlet/simpleauth"): "simpleauth.getUserInfo",
            (ACCESS_TOKEN_IC, "uc/sso/access_token"): "access_token",
            (SSO_USER_IC, "uc/sso/getUserInfo"): "sso.getUserInfo",
        }.get((ic, rest))
        refused = self._check_hmac(request, ic)
        if refused is not None:
            return refused
        if route is None:
            return JSONResponse({"message": "no Route matched with those values"}, 404)
        self.calls.append(route)
        fault = self.faults.get(route) or self.faults.get("*") or IrsFault()
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.http_status:
            return Response("<html><body>upstream error</body></html>", fault.http_status)
        if fault.garbage:
            return Response("<html>维护中</html>", 200, media_type="text/html")
        if route in ("ticketValidation", "simpleauth.getUserInfo"):
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            return JSONResponse(self._simpleauth(route, form))
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(_sso_error("C-USER-SSO-PARAM-INVALID", "参数错误"))
        if route == "access_token":
            return JSONResponse(self._access_token(body))
        return JSONResponse(self._sso_user_info(body))

    # -- simpleauth (flow A) -------------------------------------------------------------

    def _simpleauth(self, route: str, form: dict[str, str]) -> dict[str, Any]:
        def fail(result: str, errmsg: str) -> dict[str, Any]:
            return {"result": result, "errmsg": errmsg}

        accounts = self.service_accounts or self.credentials
        code = form.get("servicecode", "")
        password = accounts.get(code)
        if password is None:
            return fail("6099", "servicecode无效")
        time_text = form.get("time", "")
        expected = hashlib.md5(
            (code + password + time_text).encode(), usedforsecurity=False
        ).hexdigest()
        if not hmac.compare_digest(expected, form.get("sign", "").lower()):
            return fail("6099", "sign校验失败")
        try:
            sent_at = datetime.strptime(time_text, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
        except ValueError:
            return fail("6099", "time格式错误")
        if abs(sent_at.timestamp() - self.clock()) > self.simpleauth_time_tolerance_s:
            return fail("6099", "time已过期")
        method = form.get("method")
        now = self.clock()
        if route == "ticketValidation" and method == "ticketValidation":
            st = form.get("st", "")
            if not _ST_RE.fullmatch(st):
                return fail("6004", "st格式错误")
            with self._lock:
                ticket = self._tickets.get(st)
                if ticket is None:
                    return fail("6002", "不是有效的st")
                if ticket.audience != code:
                    return fail("6003", "st不是为该资源签发的")
                if ticket.used or ticket.expires_at < now:
                    ticket.used = True
                    return fail("6001", "st已过期")
                ticket.used = True
                token = secrets.token_hex(16)
                self._tokens[token] = (ticket.user, now + self.token_ttl_s)
            user = ticket.user
            return {
                "result": "0",
                "errmsg": "成功",
                "token": token,
                "userid": user.user_id,
                "loginname": user.login_name,
                "username": user.name,
                "orgcoding": "",
            }
        if route == "simpleauth.getUserInfo" and method == "getUserInfo":
            with self._lock:
                owner, expires_at = self._tokens.get(form.get("token", ""), (None, 0.0))
            if owner is None or expires_at < now:
                return fail("6099", "token无效")
            info: dict[str, Any] = {
                "result": "0",
                "errmsg": "成功",
                "userid": owner.user_id,
                "loginname": owner.login_name,
                "username": owner.name,
                "authlevel": str(owner.auth_level),
                "useable": "1",
                "headpicture": "https://puser.zjzwfw.gov.cn/head/fake.png",
            }
            if owner.auth_level >= 2:
                info.update(
                    {
                        "idtype": SIMPLEAUTH_IDTYPE.get(owner.id_type, "9"),
                        "idnum": owner.id_number,
                        "mobile": owner.phone,
                        "sex": "1",
                        "nation": "01",
                    }
                )
            return info
        return fail("6099", "method不支持")

    # -- unified SSO (flow B) ------------------------------------------------------------

    def _access_token(self, body: dict[str, Any]) -> dict[str, Any]:
        ticket_id = str(body.get("ticketId") or "")
        app_id = str(body.get("appId") or "")
        now = self.clock()
        with self._lock:
            ticket = self._tickets.get(ticket_id)
            if (
                app_id not in self.app_ids
                or ticket is None
                or ticket.audience != app_id
                or ticket.used
                or ticket.expires_at < now
            ):
                if ticket is not None and ticket.audience == app_id:
                    ticket.used = True
                return _sso_error("C-USER-SSO-TICKET-INVALID", "ticket无效或已过期")
            ticket.used = True
            token = "debug_at_" + secrets.token_hex(16)
            self._tokens[token] = (ticket.user, now + self.token_ttl_s)
        return {
            "success": True,
            "errorCode": None,
            "errorMsg": None,
            "data": {"accessToken": token},
        }

    def _sso_user_info(self, body: dict[str, Any]) -> dict[str, Any]:
        token = str(body.get("token") or "")
        with self._lock:
            known = token in self._tokens
            owner, expires_at = self._tokens.get(token, (None, 0.0))
        if not known or expires_at < self.clock():
            return _sso_error("C-USER-SSO-TOKEN-INVALID", "token无效")
        if owner is None:
            return _sso_error("C-USER-SSO-USER-EMPTY", "用户不存在")
        person: dict[str, Any] = {
            "userId": owner.user_id,
            "userName": owner.name,
            "idType": owner.id_type,
            "outerIdType": None,
            "idNo": owner.id_number,
            "attnUserType": None,
            "phone": owner.phone,
            "email": None,
            "nation": "01",
            "gender": "1",
            "birthday": None,
            "certKey": hashlib.sha256(owner.id_number.encode()).hexdigest(),
            "attributes": {},
        }
        if owner.report_level_in_sso:
            person["authLevel"] = str(owner.auth_level)
        data: dict[str, Any] = {
            "userType": owner.user_type,
            "personInfo": person,
            "legalPersonInfo": None,
            "organizationInfoList": [],
        }
        if owner.user_type == "LEGAL_PERSON":
            data["legalPersonInfo"] = {
                "name": "杭州某某科技有限公司",
                "unifiedSocialId": "91330100MA2XXXXXX0",
                "attnName": owner.name,
                "attnIdNo": owner.id_number,
                "corpId": "corp-" + owner.user_id,
            }
        return {"success": True, "errorCode": None, "errorMsg": None, "data": data}


def _sso_error(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "errorCode": code, "errorMsg": message, "data": None}
