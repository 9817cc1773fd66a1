"""A fake Alipay OpenAPI v2 gateway (``gateway.do``) that speaks the real protocol.

It checks OUR request signature with the app public key exactly as Alipay does
(protocols.md §1.3: every parameter but ``sign``, empties dropped, ASCII-sorted, raw values,
RSA2) and answers in Alipay's shapes, signing each ``*_response`` node with its own
"Alipay private key" (§1.4). The node text is written with escaped slashes, unicode escapes
and nested objects, and a member follows ``sign``, so a client that re-serialises instead
of verifying the raw text fails.

Covered methods: ``alipay.system.oauth.token`` (authorization_code and refresh_token) and
``alipay.user.info.share``. Auth codes are single-use and expire. ``faults`` injects a
tampered signature or body, an error answer, a delay, garbage or an HTTP error, per method
or for all (key ``"*"``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BEIJING = timezone(timedelta(hours=8))
OAUTH_TOKEN = "alipay.system.oauth.token"
USER_INFO_SHARE = "alipay.user.info.share"
KNOWN_METHODS = frozenset({OAUTH_TOKEN, USER_INFO_SHARE})
INVALID_SIGNATURE_MSG = (
    "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为："
)


def generate_rsa_keypair(bits: int = 2048) -> tuple[str, str]:
    """A new RSA key pair as (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@dataclass
class AlipayUser:
    user_id: str  # 2088 + 12 digits
    open_id: str  # per-app id of openid-mode apps
    nick_name: str = "测试用户"
    avatar: str = "https://tfs.alipayobjects.com/images/partner/T1avatar/fake.png"
    gender: str = "M"
    province: str = "浙江省"
    city: str = "杭州市"
    user_type: str = "2"  # 1 company, 2 personal
    is_certified: str = "T"
    # sensitive fields, only shared when the fake's ``sensitive_fields`` is on
    user_name: str | None = None
    cert_type: str | None = None
    cert_no: str | None = None
    mobile: str | None = None


@dataclass
class AlipayFault:
    delay_s: float = 0.0
    tamper_signature: bool = False  # sign with a key that is not the Alipay key
    tamper_body: bool = False  # change the node after signing it
    # (code, msg, sub_code, sub_msg) answered in the signed method node
    error: tuple[str, str, str, str] | None = None
    # (code, msg, sub_code, sub_msg) answered as an unsigned ``error_response``
    gateway_error: tuple[str, str, str, str] | None = None
    garbage: bool = False  # HTTP 200 with an HTML page
    http_status: int | None = None  # e.g. 502


@dataclass
class _Code:
    user: AlipayUser
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    user: AlipayUser
    expires_at: float
    revoked: bool = False


@dataclass
class FakeAlipayGateway:
    app_id: str
    app_public_key_pem: str
    alipay_private_key_pem: str
    subject_mode: Literal["user_id", "open_id", "both"] = "user_id"
    timestamp_tolerance_s: float = 600.0
    code_ttl_s: float = 180.0
    access_token_ttl_s: float = 3600.0
    refresh_token_ttl_s: float = 30 * 86400.0
    sensitive_fields: bool = True  # 用户信息申请 granted for user_name / cert_no / mobile
    user_info_permission: bool = True  # 获取会员信息 granted at all
    clock: Callable[[], float] = time.time
    faults: dict[str, AlipayFault] = field(default_factory=dict)
    received: list[dict[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._defaults = {
            "subject_mode": self.subject_mode,
            "timestamp_tolerance_s": self.timestamp_tolerance_s,
            "sensitive_fields": self.sensitive_fields,
            "user_info_permission": self.user_info_permission,
        }
        app_key = serialization.load_pem_public_key(self.app_public_key_pem.encode())
        alipay_key = serialization.load_pem_private_key(
            self.alipay_private_key_pem.encode(), password=None
        )
        assert isinstance(app_key, rsa.RSAPublicKey)
        assert isinstance(alipay_key, rsa.RSAPrivateKey)
        self._app_key = app_key
        self._alipay_key = alipay_key
        self._rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access_tokens: dict[str, _Token] = {}
        self._refresh_tokens: dict[str, _Token] = {}
        self.app = Starlette(routes=[Route("/gateway.do", self._endpoint, methods=["GET", "POST"])])

    # -- test controls -----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the construction settings, without faults; issued codes stay valid."""
        for name, value in self._defaults.items():
            setattr(self, name, value)
        self.faults.clear()
        self.received.clear()
        self.clock = time.time

    def issue_auth_code(self, user: AlipayUser, ttl_s: float | None = None) -> str:
        """What ``my.getAuthCode`` hands the mini-program: single use, short-lived."""
        code = secrets.token_hex(16)
        with self._lock:
            ttl = self.code_ttl_s if ttl_s is None else ttl_s
            self._codes[code] = _Code(user, self.clock() + ttl)
        return code

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self._access_tokens.values():
                token.expires_at = 0.0

    def revoke_refresh_token(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh_tokens[refresh_token].revoked = True

    # -- the protocol --------------------------------------------------------------------

    @staticmethod
    def expected_sign_content(params: dict[str, str]) -> str:
        """How the gateway rebuilds the string to sign (§1.3)."""
        kept = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
        return "&".join(f"{k}={v}" for k, v in kept)

    def _signature_ok(self, params: dict[str, str]) -> bool:
        try:
            signature = base64.b64decode(params["sign"], validate=True)
            self._app_key.verify(
                signature,
                self.expected_sign_content(params).encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (binascii.Error, ValueError, InvalidSignature):
            return False
        return True

    async def _endpoint(self, request: Request) -> Response:
        query = dict(request.query_params)
        form: dict[str, str] = {}
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            if content_type.startswith("application/x-www-form-urlencoded"):
                form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        params = {**query, **form}
        self.received.append({"query": query, "form": form})
        method = params.get("method", "")
        fault = self.faults.get(method) or self.faults.get("*") or AlipayFault()
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.http_status:
            return Response("<html><body>Bad Gateway</body></html>", fault.http_status)
        if fault.garbage:
            return Response("<html><body>系统繁忙</body></html>", 200, media_type="text/html")

        if not method:
            return self._error_response("40001", "Missing Required Arguments", "isv.missing-method")
        if method not in KNOWN_METHODS:
            return self._error_response("40002", "Invalid Arguments", "isv.invalid-method")
        problem = self._check_common(params)
        if problem is not None:
            return self._node(method, problem, fault)
        if fault.gateway_error is not None:
            return self._error_response(*fault.gateway_error)
        if fault.error is not None:
            code, msg, sub_code, sub_msg = fault.error
            return self._node(
                method, {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}, fault
            )
        if method == OAUTH_TOKEN:
            return self._oauth_token(params, fault)
        return self._user_info_share(params, fault)

    def _check_common(self, params: dict[str, str]) -> dict[str, Any] | None:
        def missing(sub_code: str) -> dict[str, Any]:
            return {"code": "40001", "msg": "Missing Required Arguments", "sub_code": sub_code}

        def invalid(sub_code: str, sub_msg: str = "") -> dict[str, Any]:
            node = {"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code}
            if sub_msg:
                node["sub_msg"] = sub_msg
            return node

        if not params.get("app_id"):
            return missing("isv.missing-app-id")
        if not params.get("sign"):
            return missing("isv.missing-signature")
        if not params.get("timestamp"):
            return missing("isv.missing-timestamp")
        if not params.get("sign_type"):
            return missing("isv.missing-signature-type")
        if params["app_id"] != self.app_id:
            return invalid("isv.invalid-app-id", "无效的AppID参数")
        if params["sign_type"] != "RSA2":
            return invalid("isv.invalid-signature-type", "无效的签名类型")
        if params.get("charset", "utf-8").lower() != "utf-8":
            return invalid("isv.invalid-charset", "字符集错误")
        try:
            sent_at = datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=BEIJING
            )
        except ValueError:
            return invalid("isv.invalid-timestamp", "非法的时间戳参数")
        if abs(sent_at.timestamp() - self.clock()) > self.timestamp_tolerance_s:
            return invalid("isv.invalid-timestamp", "非法的时间戳参数")
        if not self._signature_ok(params):
            return invalid(
                "isv.invalid-signature",
                INVALID_SIGNATURE_MSG + self.expected_sign_content(params),
            )
        return None

    def _oauth_token(self, params: dict[str, str], fault: AlipayFault) -> Response:
        grant_type = params.get("grant_type")
        now = self.clock()
        with self._lock:
            if grant_type == "authorization_code":
                entry = self._codes.get(params.get("code", ""))
                if entry is None or entry.used or entry.expires_at < now:
                    if entry is not None:
                        entry.used = True
                    return self._error_response(
                        "40002", "Invalid Arguments", "isv.code-invalid", "授权码code无效"
                    )
                entry.used = True
                user = entry.user
            elif grant_type == "refresh_token":
                token = self._refresh_tokens.get(params.get("refresh_token", ""))
                if token is None or token.revoked or token.expires_at < now:
                    return self._error_response(
                        "40002", "Invalid Arguments", "isv.refresh-token-invalid", "刷新令牌无效"
                    )
                token.revoked = True
                user = token.user
            else:
                return self._error_response(
                    "40002", "Invalid Arguments", "isv.grant-type-invalid", "grant_type无效"
                )
            access_token = "authusrB" + secrets.token_hex(16)
            refresh_token = "authusrR" + secrets.token_hex(16)
            self._access_tokens[access_token] = _Token(user, now + self.access_token_ttl_s)
            self._refresh_tokens[refresh_token] = _Token(user, now + self.refresh_token_ttl_s)
        # Success answers of oauth.token carry no code/msg, as in Alipay's documentation.
        node: dict[str, Any] = {
            **self._subject(user),
            "access_token": access_token,
            "expires_in": int(self.access_token_ttl_s),
            "refresh_token": refresh_token,
            "re_expires_in": int(self.refresh_token_ttl_s),
            "auth_start": datetime.fromtimestamp(now, BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        }
        return self._node(OAUTH_TOKEN, node, fault)

    def _user_info_share(self, params: dict[str, str], fault: AlipayFault) -> Response:
        with self._lock:
            token = self._access_tokens.get(params.get("auth_token", ""))
        if token is None or token.revoked:
            return self._node(
                USER_INFO_SHARE,
                {
                    "code": "20001",
                    "msg": "Insufficient Token Permissions",
                    "sub_code": "aop.invalid-auth-token",
                    "sub_msg": "无效的访问令牌",
                },
                fault,
            )
        if token.expires_at < self.clock():
            return self._node(
                USER_INFO_SHARE,
                {
                    "code": "20001",
                    "msg": "Insufficient Token Permissions",
                    "sub_code": "aop.auth-token-time-out",
                    "sub_msg": "访问令牌已过期",
                },
                fault,
            )
        if not self.user_info_permission:
            return self._node(
                USER_INFO_SHARE,
                {
                    "code": "40006",
                    "msg": "Insufficient Permissions",
                    "sub_code": "isv.insufficient-isv-permissions",
                    "sub_msg": "ISV权限不足，建议在开发者中心检查对应功能是否已经添加",
                },
                fault,
            )
        user = token.user
        node: dict[str, Any] = {
            "code": "10000",
            "msg": "Success",
            **self._subject(user),
            "avatar": user.avatar,
            "nick_name": user.nick_name,
            "gender": user.gender,
            "province": user.province,
            "city": user.city,
            "user_type": user.user_type,
            "user_status": "T",
            "is_certified": user.is_certified,
            "is_student_certified": "F",
            "deliver_addresses": [
                {"prov_code": "330000", "city_code": "330100", "address": "文三路/测试"}
            ],
        }
        if self.sensitive_fields:
            for name in ("user_name", "cert_type", "cert_no", "mobile"):
                value = getattr(user, name)
                if value is not None:
                    node[name] = value
        return self._node(USER_INFO_SHARE, node, fault)

    def _subject(self, user: AlipayUser) -> dict[str, str]:
        if self.subject_mode == "user_id":
            return {"user_id": user.user_id}
        if self.subject_mode == "open_id":
            return {"open_id": user.open_id}
        return {"user_id": user.user_id, "open_id": user.open_id}

    # -- answers ---------------------------------------------------------------------------

    @staticmethod
    def _node_text(node: dict[str, Any]) -> str:
        # What Alipay's Java stack emits: \uXXXX for non-ASCII and \/ for slashes. Any
        # re-serialisation by the client changes these bytes and breaks the signature.
        return json.dumps(node, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")

    def _node(self, method: str, node: dict[str, Any], fault: AlipayFault) -> Response:
        node_name = method.replace(".", "_") + "_response"
        text = self._node_text(node)
        key = self._rogue_key if fault.tamper_signature else self._alipay_key
        signature = base64.b64encode(
            key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        ).decode()
        if fault.tamper_body:
            # a later duplicate member wins in most JSON parsers: swap the subject
            text = text[:-1] + ',"user_id":"2088000000009999","open_id":"forged"}'
        body = (
            f'{{"{node_name}":{text},"sign":"{signature}",'
            f'"alipay_cert_sn":"fake-{secrets.token_hex(4)}"}}'
        )
        return Response(body, 200, media_type="text/html;charset=utf-8")

    def _error_response(self, code: str, msg: str, sub_code: str, sub_msg: str = "") -> Response:
        node = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}
        body = f'{{"error_response":{self._node_text(node)},"sign":""}}'
        return Response(body, 200, media_type="text/html;charset=utf-8")
