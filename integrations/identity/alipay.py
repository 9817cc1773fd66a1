"""Alipay mini-program sign-in over the OpenAPI v2 gateway (RSA2), see protocols.md §1-§2.

``authenticate(auth_code)`` exchanges the mini-program's ``authCode`` with
``alipay.system.oauth.token`` and reads the member with ``alipay.user.info.share``. Every
request is signed with the app private key (§1.3) and every answer is checked with the
Alipay public key over the raw text of its ``*_response`` node (§1.4).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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

CHARSET: Final = "utf-8"
SUCCESS: Final = "10000"

OAUTH_TOKEN: Final = "alipay.system.oauth.token"
USER_INFO_SHARE: Final = "alipay.user.info.share"

# Common parameters that travel in the URL query (official SDKs); the rest goes in the body.
_QUERY_PARAMS: Final = frozenset(
    {
        "app_id",
        "method",
        "format",
        "charset",
        "sign_type",
        "sign",
        "timestamp",
        "version",
        "auth_token",
        "app_auth_token",
        "app_cert_sn",
        "alipay_root_cert_sn",
        "notify_url",
        "return_url",
    }
)

# alipay.user.info.share ``cert_type`` (0 身份证, 1 护照, 2 军官证, 3 士兵证, 4 回乡证,
# 5 临时身份证, 6 户口簿, 7 警官证, 8 台胞证, 9 营业执照, 10 其它证件) and the certify API's
# names, onto our id_document_type codes. Anything else is "99" (其他).
ALIPAY_CERT_TYPES: Final[Mapping[str, str]] = {
    "0": "01",
    "1": "04",
    "4": "02",
    "8": "03",
    "IDENTITY_CARD": "01",
    "PASSPORT": "04",
    "HOME_VISIT_PERMIT_HK_MC": "02",
    "HOME_VISIT_PERMIT_TAIWAN": "03",
}
OTHER_ID_TYPE: Final = "99"

# sub_codes that mean "this credential is not (or no longer) good": the user must sign in again.
_REJECTED_SUB_CODES: Final = frozenset(
    {
        "isv.code-invalid",
        "isv.code-expired",
        "isv.refresh-token-invalid",
        "isv.refresh-token-time-out",
        "aop.invalid-auth-token",
        "aop.auth-token-time-out",
        "aop.auth-token-illegal",
    }
)


def load_pem(value_or_path: str) -> str:
    """Key material as PEM text, from PEM text, a file path, or Alipay's bare base64.

    The Alipay console hands out keys as one line of base64 without PEM armour; those are
    converted to PKCS#8 (private) or SubjectPublicKeyInfo (public) PEM.
    """
    value = value_or_path.strip()
    if "-----BEGIN" in value:
        return value + "\n"
    try:
        path = Path(value).expanduser()
        is_file = path.is_file()
    except (OSError, ValueError):
        is_file = False
    if is_file:
        return load_pem(path.read_text(encoding="ascii"))
    try:
        der = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a PEM key, a key file path or base64 key material") from None
    try:
        private = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        pass
    else:
        return private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
    try:
        public = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise ValueError("base64 key material is neither a private nor a public key") from None
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(load_pem(pem).encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the app private key must be an RSA key")
    return key


def _public_key(pem: str) -> rsa.RSAPublicKey:
    text = load_pem(pem)
    if "CERTIFICATE" in text:
        raise ValueError("certificate mode (公钥证书) is not supported; give the Alipay public key")
    key = serialization.load_pem_public_key(text.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the Alipay public key must be an RSA key")
    return key


@dataclass(frozen=True)
class AlipayConfig:
    gateway_url: str  # e.g. https://openapi.alipay.com/gateway.do
    app_id: str
    app_private_key_pem: str = field(repr=False)  # PEM text, key file path or bare base64
    alipay_public_key_pem: str = field(repr=False)  # the *Alipay* public key, not the app's
    timeout_s: float = 5.0
    # False when the mini-program only asks for the silent ``auth_base`` scope: the sign-in
    # then stops after oauth.token and yields an unverified identity.
    fetch_user_info: bool = True


def build_sign_content(params: Mapping[str, str]) -> str:
    """The §1.3 string to sign: all params but ``sign``, empties dropped, sorted, raw values."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key] != ""
    )


def rsa2_sign(content: str, key: rsa.RSAPrivateKey) -> str:
    signature = key.sign(content.encode(CHARSET), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(content: str, signature_b64: str, key: rsa.RSAPublicKey) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, content.encode(CHARSET), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def top_level_raw_values(text: str) -> dict[str, str]:
    """The exact source text of each top-level member's value of a JSON object.

    Used to verify a response over the bytes Alipay signed (§1.4): escapes such as ``\\/`` or
    ``\\u5f20``, member order and spacing are kept as received. Raises ValueError on text
    that is not one JSON object or that repeats a top-level key.
    """
    decoder = json.JSONDecoder()

    def skip_ws(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip_ws(0)
    if i >= len(text) or text[i] != "{":
        raise ValueError("not a JSON object")
    values: dict[str, str] = {}
    i = skip_ws(i + 1)
    if i < len(text) and text[i] == "}":
        return values
    while True:
        if i >= len(text) or text[i] != '"':
            raise ValueError("expected a member name")
        key, i = decoder.raw_decode(text, i)
        i = skip_ws(i)
        if i >= len(text) or text[i] != ":":
            raise ValueError("expected ':'")
        i = skip_ws(i + 1)
        _, end = decoder.raw_decode(text, i)
        if key in values:
            raise ValueError("duplicate top-level member")
        values[key] = text[i:end]
        i = skip_ws(end)
        if i < len(text) and text[i] == ",":
            i = skip_ws(i + 1)
            continue
        if i < len(text) and text[i] == "}":
            break
        raise ValueError("expected ',' or '}'")
    if skip_ws(i + 1) != len(text):
        raise ValueError("trailing data after the JSON object")
    return values


def response_node_name(method: str) -> str:
    return method.replace(".", "_") + "_response"


def map_cert_type(cert_type: str | None) -> str | None:
    if cert_type is None or cert_type == "":
        return None
    return ALIPAY_CERT_TYPES.get(str(cert_type).strip(), OTHER_ID_TYPE)


def _error_code_for(code: str, sub_code: str) -> ErrorCode:
    if sub_code in _REJECTED_SUB_CODES or code in {"20001", "40004"}:
        return ErrorCode.PROVIDER_REJECTED
    # 20000 (their fault), 40001/40002 with a signature/app/timestamp sub_code and 40006
    # (our configuration): the applicant cannot fix it by signing in again.
    return ErrorCode.PROVIDER_UNAVAILABLE


class AlipayGatewayError(IdentityError):
    """The gateway answered with ``code`` != 10000 (also the error_response form)."""

    def __init__(self, method: str, code: str, sub_code: str) -> None:
        self.method = method
        self.gateway_code = code
        super().__init__(
            _error_code_for(code, sub_code),
            f"alipay {method}: {code}/{sub_code or '-'}",
            provider_code=sub_code or code,
        )


class AlipayClient(GatewayClient):
    """Alipay sign-in. Give it a shared ``httpx.AsyncClient`` or let it own one."""

    provider = "alipay"

    def __init__(
        self,
        config: AlipayConfig,
        http: httpx.AsyncClient | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self._private_key = _private_key(config.app_private_key_pem)
        self._alipay_key = _public_key(config.alipay_public_key_pem)
        super().__init__(http)
        self._clock = clock

    async def authenticate(self, credential: str) -> ProviderIdentity:
        auth_code = check_credential("alipay", credential)
        token = await self.execute(
            OAUTH_TOKEN,
            params={"grant_type": "authorization_code", "code": auth_code},
            idempotent=False,
        )
        subject = _subject(token)
        access_token = _text(token.get("access_token"))
        if subject is None or access_token is None:
            log.error("identity.bad_answer", provider="alipay", call=OAUTH_TOKEN)
            raise IdentityError(
                ErrorCode.PROVIDER_UNAVAILABLE, f"alipay {OAUTH_TOKEN}: no user id or token"
            )
        if not self.config.fetch_user_info:
            return _unverified(subject, phone=None)
        try:
            info = await self.execute(USER_INFO_SHARE, auth_token=access_token)
        except AlipayGatewayError as exc:
            if exc.gateway_code == "40006":
                # The app has not been granted 获取会员信息: signed in, identity unverified.
                log.warning(
                    "identity.alipay_user_info_not_permitted", provider_code=exc.provider_code
                )
                return _unverified(subject, phone=None)
            raise
        return _identity_from_user_info(subject, info)

    async def execute(
        self,
        method: str,
        *,
        params: Mapping[str, str] | None = None,
        auth_token: str | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Call one v2 gateway method; the verified ``*_response`` node with code 10000."""
        all_params: dict[str, str] = {
            "app_id": self.config.app_id,
            "method": method,
            "format": "JSON",
            "charset": CHARSET,
            "sign_type": "RSA2",
            "timestamp": self._clock().astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
        }
        if auth_token:
            all_params["auth_token"] = auth_token
        for key, value in (params or {}).items():
            all_params[key] = value
        all_params = {k: v for k, v in all_params.items() if v != ""}
        all_params["sign"] = rsa2_sign(build_sign_content(all_params), self._private_key)
        query = {k: v for k, v in all_params.items() if k in _QUERY_PARAMS}
        body = {k: v for k, v in all_params.items() if k not in _QUERY_PARAMS}

        response = await send_with_retry(
            "alipay",
            method,
            lambda: self._http.post(
                self.config.gateway_url,
                params=query,
                data=body,
                headers={"Content-Type": f"application/x-www-form-urlencoded;charset={CHARSET}"},
                timeout=self.config.timeout_s,
            ),
            idempotent=idempotent,
        )
        return self._parse(method, response)

    def _parse(self, method: str, response: httpx.Response) -> dict[str, Any]:
        def unavailable(why: str) -> IdentityError:
            log.error("identity.bad_answer", provider="alipay", call=method, why=why)
            return IdentityError(ErrorCode.PROVIDER_UNAVAILABLE, f"alipay {method}: {why}")

        if response.status_code != 200:
            raise unavailable(f"HTTP {response.status_code}")
        try:
            text = response.content.decode(CHARSET)
            parsed = json.loads(text)
            raw_values = top_level_raw_values(text)
        except ValueError:
            raise unavailable("answer is not JSON") from None
        if not isinstance(parsed, dict):
            raise unavailable("answer is not a JSON object")

        node_name = response_node_name(method)
        node = parsed.get(node_name)
        sign = parsed.get("sign")
        if not isinstance(node, dict):
            error = parsed.get("error_response")
            if isinstance(error, dict):
                # Gateway-level error: ``sign`` is empty or absent; nothing to verify, and
                # it can only ever make the sign-in fail.
                raise self._gateway_error(method, error)
            raise unavailable("no response node")

        # oauth.token answers without ``code`` on success; errors always carry one.
        code = str(node.get("code") or SUCCESS)
        if not isinstance(sign, str) or not sign:
            if code != SUCCESS:
                raise self._gateway_error(method, node)
            raise unavailable("unsigned answer")
        if not rsa2_verify(raw_values[node_name], sign, self._alipay_key):
            log.error("identity.alipay_bad_signature", call=method)
            raise IdentityError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"alipay {method}: response signature does not verify",
                provider_code="bad-response-signature",
            )
        if code != SUCCESS:
            raise self._gateway_error(method, node)
        return node

    @staticmethod
    def _gateway_error(method: str, node: Mapping[str, Any]) -> AlipayGatewayError:
        code = str(node.get("code", ""))
        sub_code = str(node.get("sub_code", "") or "")
        error = AlipayGatewayError(method, code, sub_code)
        # sub_msg is not logged: for isv.invalid-signature it echoes the signed string,
        # which holds the auth code or the access token.
        level = "warning" if error.code is ErrorCode.PROVIDER_REJECTED else "error"
        getattr(log, level)(
            "identity.alipay_gateway_error", call=method, code=code, sub_code=sub_code
        )
        return error


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _subject(token: Mapping[str, Any]) -> str | None:
    # open_id for apps in openid mode (or gray mode, which returns both); user_id otherwise.
    return _text(token.get("open_id")) or _text(token.get("user_id"))


def _unverified(subject: str, *, phone: str | None) -> ProviderIdentity:
    return ProviderIdentity(
        provider="alipay",
        subject=subject,
        verified=False,
        name=None,
        id_type=None,
        id_number=None,
        phone=phone,
    )


def _identity_from_user_info(subject: str, info: Mapping[str, Any]) -> ProviderIdentity:
    if _text(info.get("user_type")) == "1":  # 1 company account, 2 personal account
        raise IdentityError(
            ErrorCode.NOT_A_PERSONAL_ACCOUNT,
            "alipay: company account",
            provider_code="user_type=1",
        )
    phone = _text(info.get("mobile"))
    name = _text(info.get("user_name"))
    id_number = _text(info.get("cert_no"))
    id_type = map_cert_type(_text(info.get("cert_type")))
    certified = _text(info.get("is_certified"))
    if not (name and id_number and id_type) or certified == "F":
        # Sensitive fields not granted to the app (or the member is not real-name
        # certified): signed in, but the identity must come from 浙里办 or be entered.
        return _unverified(subject, phone=phone)
    return ProviderIdentity(
        provider="alipay",
        subject=subject,
        verified=True,
        name=name,
        id_type=id_type,
        id_number=id_number.upper(),
        phone=phone,
    )
