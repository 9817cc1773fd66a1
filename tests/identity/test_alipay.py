"""AlipayClient against the fake Alipay gateway over real HTTP (protocols.md §1.6, §2.6)."""

from __future__ import annotations

import base64
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.identity import (
    AlipayClient,
    AlipayConfig,
    DisabledProvider,
    IdentityError,
    ProviderIdentity,
    load_pem,
    require_verified,
)
from integrations.identity.alipay import (
    OAUTH_TOKEN,
    USER_INFO_SHARE,
    build_sign_content,
    map_cert_type,
    rsa2_sign,
    rsa2_verify,
    top_level_raw_values,
)
from models.clock import CHINA_TZ
from models.errors import ErrorCode
from tests.fakes.alipay_gateway import (
    AlipayFault,
    AlipayUser,
    FakeAlipayGateway,
    generate_rsa_keypair,
)
from tests.fakes.server import run_asgi_server

APP_ID = "2021000000000000"
# GB 11643 example number, lower-case check character on purpose
ID_NUMBER = "11010519491231002x"
NAME = "张三丰"
MOBILE = "13800138000"


@dataclass(frozen=True)
class Keys:
    app_private: str
    app_public: str
    alipay_private: str
    alipay_public: str
    other_private: str
    other_public: str


@pytest.fixture(scope="module")
def keys() -> Keys:
    app = generate_rsa_keypair()
    alipay = generate_rsa_keypair()
    other = generate_rsa_keypair()
    return Keys(*app, *alipay, *other)


@pytest.fixture(scope="module")
def fake(keys: Keys) -> FakeAlipayGateway:
    return FakeAlipayGateway(
        app_id=APP_ID,
        app_public_key_pem=keys.app_public,
        alipay_private_key_pem=keys.alipay_private,
    )


@pytest.fixture(scope="module")
def gateway_url(fake: FakeAlipayGateway) -> Iterator[str]:
    with run_asgi_server(fake.app) as base_url:
        yield base_url + "/gateway.do"


@pytest.fixture(autouse=True)
def _reset_fake(fake: FakeAlipayGateway) -> None:
    fake.reset()


def make_config(keys: Keys, url: str, **overrides: Any) -> AlipayConfig:
    settings: dict[str, Any] = {
        "gateway_url": url,
        "app_id": APP_ID,
        "app_private_key_pem": keys.app_private,
        "alipay_public_key_pem": keys.alipay_public,
        "timeout_s": 2.0,
    }
    settings.update(overrides)
    return AlipayConfig(**settings)


@pytest.fixture
async def client(keys: Keys, gateway_url: str) -> AsyncIterator[AlipayClient]:
    async with AlipayClient(make_config(keys, gateway_url)) as c:
        yield c


_seq = itertools.count(1)


def new_user(**fields: Any) -> AlipayUser:
    n = next(_seq)
    return AlipayUser(user_id=f"2088{n:012d}", open_id=f"074a{n:043d}", **fields)


def certified_user(**fields: Any) -> AlipayUser:
    data: dict[str, Any] = {
        "user_name": NAME,
        "cert_type": "0",
        "cert_no": ID_NUMBER,
        "mobile": MOBILE,
    }
    data.update(fields)
    return new_user(**data)


async def expect_error(coro: Any) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        await coro
    return info.value


def methods_received(fake: FakeAlipayGateway) -> list[str]:
    return [{**r["query"], **r["form"]}.get("method", "") for r in fake.received]


# -- signing rules (§1.3) and raw-text verification (§1.4) ------------------------------------


def test_sign_content_matches_protocol_example() -> None:
    params = {
        "app_id": "2021000000000000",
        "method": "alipay.system.oauth.token",
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2024-05-01 10:00:00",
        "version": "1.0",
        "grant_type": "authorization_code",
        "code": "4b203fe6c11548bcabd8da5bb087a83b",
        "sign": "left-out",
        "app_auth_token": "",
    }
    assert build_sign_content(params) == (
        "app_id=2021000000000000&charset=utf-8&code=4b203fe6c11548bcabd8da5bb087a83b"
        "&format=JSON&grant_type=authorization_code&method=alipay.system.oauth.token"
        "&sign_type=RSA2&timestamp=2024-05-01 10:00:00&version=1.0"
    )


def _rsa_private(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _rsa_public(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def test_rsa2_round_trip(keys: Keys) -> None:
    signature = rsa2_sign("a=1&b=中文", _rsa_private(keys.app_private))
    assert rsa2_verify("a=1&b=中文", signature, _rsa_public(keys.app_public))
    assert not rsa2_verify("a=1&b=中文 ", signature, _rsa_public(keys.app_public))
    assert not rsa2_verify("a=1&b=中文", signature, _rsa_public(keys.other_public))
    assert not rsa2_verify("a=1&b=中文", "not base64!", _rsa_public(keys.app_public))


def test_raw_node_text_is_verified_not_reserialised(keys: Keys) -> None:
    node = (
        '{"code":"10000","msg":"Success","avatar":"https:\\/\\/tfs.alipayobjects.com\\/a.png",'
        '"nick_name":"\\u5f20\\u4e09","deliver_addresses":[{"address":"a\\/b","n":{"x":1}}],'
        '"quote":"br}ace\\"s{"}'
    )
    signature = rsa2_sign(node, _rsa_private(keys.alipay_private))
    text = (
        '{"alipay_user_info_share_response" : '
        + node
        + ' ,\n"sign":"'
        + signature
        + '","alipay_cert_sn":"abc","later":{"k":"}"}}'
    )
    raw = top_level_raw_values(text)
    assert raw["alipay_user_info_share_response"] == node
    assert raw["sign"] == f'"{signature}"'
    alipay_key = _rsa_public(keys.alipay_public)
    assert rsa2_verify(raw["alipay_user_info_share_response"], signature, alipay_key)
    reserialised = json.dumps(json.loads(node), ensure_ascii=False, separators=(",", ":"))
    assert reserialised != node
    assert not rsa2_verify(reserialised, signature, alipay_key)


@pytest.mark.parametrize(
    "text", ["", "[]", '{"a":1', '{"a":1}x', '{"a":1,"a":2}', '{"a" 1}', "{'a':1}"]
)
def test_raw_value_scanner_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError):
        top_level_raw_values(text)


def test_load_pem_accepts_pem_path_and_bare_base64(keys: Keys, tmp_path: Path) -> None:
    private = _rsa_private(keys.app_private)
    pkcs1_der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_file = tmp_path / "app_private_key.pem"
    key_file.write_text(keys.app_private)

    def same_private(pem: str) -> bool:
        loaded = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        return loaded.private_numbers() == private.private_numbers()

    assert same_private(load_pem(keys.app_private))
    assert same_private(load_pem(str(key_file)))
    assert same_private(load_pem(base64.b64encode(pkcs1_der).decode()))
    public_pem = load_pem(base64.b64encode(public_der).decode())
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(ValueError):
        load_pem("/no/such/key.pem")
    with pytest.raises(ValueError):
        load_pem(base64.b64encode(b"not a key").decode())


@pytest.mark.parametrize(
    ("cert_type", "expected"),
    [
        ("0", "01"),
        ("1", "04"),
        ("4", "02"),
        ("8", "03"),
        ("2", "99"),
        ("5", "99"),
        ("10", "99"),
        ("IDENTITY_CARD", "01"),
        ("PASSPORT", "04"),
        (None, None),
    ],
)
def test_cert_type_mapping(cert_type: str | None, expected: str | None) -> None:
    assert map_cert_type(cert_type) == expected


# -- sign-in (§2.6) ------------------------------------------------------------------------


async def test_login_with_real_name_fields(client: AlipayClient, fake: FakeAlipayGateway) -> None:
    user = certified_user()
    identity = await client.authenticate(fake.issue_auth_code(user))
    assert identity == ProviderIdentity(
        provider="alipay",
        subject=user.user_id,
        verified=True,
        name=NAME,
        id_type="01",
        id_number=ID_NUMBER.upper(),
        phone=MOBILE,
    )
    assert require_verified(identity) is identity
    # common params in the query, business params in the form body (§1.2); auth_token signed
    token_request, info_request = fake.received
    assert token_request["query"]["method"] == OAUTH_TOKEN
    assert {"grant_type", "code"} <= token_request["form"].keys()
    assert "code" not in token_request["query"]
    assert "sign" in token_request["query"]
    assert info_request["query"]["method"] == USER_INFO_SHARE
    assert info_request["query"]["auth_token"].startswith("authusrB")


@pytest.mark.parametrize(
    ("mode", "subject_of"),
    [
        ("open_id", lambda u: u.open_id),
        ("both", lambda u: u.open_id),
        ("user_id", lambda u: u.user_id),
    ],
)
async def test_openid_mode(
    client: AlipayClient,
    fake: FakeAlipayGateway,
    mode: Any,
    subject_of: Callable[[AlipayUser], str],
) -> None:
    fake.subject_mode = mode
    user = certified_user()
    identity = await client.authenticate(fake.issue_auth_code(user))
    assert identity.subject == subject_of(user)
    assert identity.verified


async def test_auth_code_is_single_use(client: AlipayClient, fake: FakeAlipayGateway) -> None:
    code = fake.issue_auth_code(certified_user())
    await client.authenticate(code)
    error = await expect_error(client.authenticate(code))
    assert error.code is ErrorCode.PROVIDER_REJECTED
    assert error.provider_code == "isv.code-invalid"


async def test_expired_auth_code(client: AlipayClient, fake: FakeAlipayGateway) -> None:
    code = fake.issue_auth_code(certified_user(), ttl_s=-1)
    error = await expect_error(client.authenticate(code))
    assert error.code is ErrorCode.PROVIDER_REJECTED
    assert error.provider_code == "isv.code-invalid"


async def test_unknown_auth_code(client: AlipayClient) -> None:
    error = await expect_error(client.authenticate("0" * 32))
    assert error.code is ErrorCode.PROVIDER_REJECTED


async def test_sensitive_fields_not_granted(client: AlipayClient, fake: FakeAlipayGateway) -> None:
    fake.sensitive_fields = False
    user = certified_user()
    identity = await client.authenticate(fake.issue_auth_code(user))
    assert identity.subject == user.user_id
    assert not identity.verified
    assert (identity.name, identity.id_type, identity.id_number, identity.phone) == (None,) * 4
    with pytest.raises(IdentityError) as info:
        require_verified(identity)
    assert info.value.code is ErrorCode.IDENTITY_NOT_VERIFIED


async def test_user_info_not_permitted(client: AlipayClient, fake: FakeAlipayGateway) -> None:
    fake.user_info_permission = False
    user = certified_user()
    identity = await client.authenticate(fake.issue_auth_code(user))
    assert (identity.subject, identity.verified) == (user.user_id, False)


async def test_auth_base_only(keys: Keys, gateway_url: str, fake: FakeAlipayGateway) -> None:
    async with AlipayClient(make_config(keys, gateway_url, fetch_user_info=False)) as c:
        user = certified_user()
        identity = await c.authenticate(fake.issue_auth_code(user))
    assert (identity.subject, identity.verified) == (user.user_id, False)
    assert methods_received(fake) == [OAUTH_TOKEN]


async def test_member_without_real_name(client: AlipayClient, fake: FakeAlipayGateway) -> None:
    identity = await client.authenticate(fake.issue_auth_code(certified_user(is_certified="F")))
    assert not identity.verified
    assert identity.id_number is None
    identity = await client.authenticate(fake.issue_auth_code(new_user(mobile=MOBILE)))
    assert not identity.verified
    assert identity.phone == MOBILE


async def test_company_account_is_refused(client: AlipayClient, fake: FakeAlipayGateway) -> None:
    error = await expect_error(
        client.authenticate(fake.issue_auth_code(certified_user(user_type="1", cert_type="9")))
    )
    assert error.code is ErrorCode.NOT_A_PERSONAL_ACCOUNT


@pytest.mark.parametrize(
    ("cert_type", "id_type"), [("0", "01"), ("1", "04"), ("4", "02"), ("8", "03"), ("2", "99")]
)
async def test_id_type_mapping_over_http(
    client: AlipayClient, fake: FakeAlipayGateway, cert_type: str, id_type: str
) -> None:
    user = certified_user(cert_type=cert_type, cert_no="E12345678")
    identity = await client.authenticate(fake.issue_auth_code(user))
    assert (identity.verified, identity.id_type, identity.id_number) == (True, id_type, "E12345678")


# -- answers that must not be trusted ------------------------------------------------------


@pytest.mark.parametrize("method", [OAUTH_TOKEN, USER_INFO_SHARE])
async def test_forged_response_signature(
    client: AlipayClient, fake: FakeAlipayGateway, method: str
) -> None:
    fake.faults[method] = AlipayFault(tamper_signature=True)
    error = await expect_error(client.authenticate(fake.issue_auth_code(certified_user())))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert error.provider_code == "bad-response-signature"


@pytest.mark.parametrize("method", [OAUTH_TOKEN, USER_INFO_SHARE])
async def test_tampered_response_body(
    client: AlipayClient, fake: FakeAlipayGateway, method: str
) -> None:
    fake.faults[method] = AlipayFault(tamper_body=True)
    error = await expect_error(client.authenticate(fake.issue_auth_code(certified_user())))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert error.provider_code == "bad-response-signature"


async def test_answer_signed_by_another_key(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway
) -> None:
    # the client is configured with a public key that is not the gateway's
    config = make_config(keys, gateway_url, alipay_public_key_pem=keys.other_public)
    async with AlipayClient(config) as c:
        error = await expect_error(c.authenticate(fake.issue_auth_code(certified_user())))
    assert error.provider_code == "bad-response-signature"


async def test_fake_rejects_request_signed_with_wrong_key(
    keys: Keys, gateway_url: str, client: AlipayClient, fake: FakeAlipayGateway
) -> None:
    code = fake.issue_auth_code(certified_user())
    async with AlipayClient(
        make_config(keys, gateway_url, app_private_key_pem=keys.other_private)
    ) as wrong:
        error = await expect_error(wrong.authenticate(code))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert error.provider_code == "isv.invalid-signature"
    # the refused request did not burn the code: the rightly signed client still signs in
    assert (await client.authenticate(code)).verified


@pytest.mark.parametrize(
    ("fault", "code", "provider_code"),
    [
        (
            AlipayFault(gateway_error=("20000", "Service Unavailable", "isp.unknow-error", "")),
            ErrorCode.PROVIDER_UNAVAILABLE,
            "isp.unknow-error",
        ),
        (
            AlipayFault(gateway_error=("40002", "Invalid Arguments", "isv.code-invalid", "")),
            ErrorCode.PROVIDER_REJECTED,
            "isv.code-invalid",
        ),
        (
            AlipayFault(error=("40004", "Business Failed", "isv.user-frozen", "用户已冻结")),
            ErrorCode.PROVIDER_REJECTED,
            "isv.user-frozen",
        ),
        (
            AlipayFault(error=("40002", "Invalid Arguments", "isv.invalid-app-id", "")),
            ErrorCode.PROVIDER_UNAVAILABLE,
            "isv.invalid-app-id",
        ),
    ],
)
async def test_gateway_errors(
    client: AlipayClient,
    fake: FakeAlipayGateway,
    fault: AlipayFault,
    code: ErrorCode,
    provider_code: str,
) -> None:
    fake.faults[OAUTH_TOKEN] = fault
    error = await expect_error(client.authenticate(fake.issue_auth_code(certified_user())))
    assert (error.code, error.provider_code) == (code, provider_code)


@pytest.mark.parametrize(
    "fault", [AlipayFault(garbage=True), AlipayFault(http_status=502)], ids=["html", "502"]
)
async def test_non_json_and_http_errors(
    client: AlipayClient, fake: FakeAlipayGateway, fault: AlipayFault
) -> None:
    fake.faults["*"] = fault
    error = await expect_error(client.authenticate(fake.issue_auth_code(certified_user())))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE


async def test_timeout_on_token_exchange_is_not_retried(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway
) -> None:
    fake.faults[OAUTH_TOKEN] = AlipayFault(delay_s=1.5)
    async with AlipayClient(make_config(keys, gateway_url, timeout_s=0.3)) as c:
        started = time.monotonic()
        error = await expect_error(c.authenticate(fake.issue_auth_code(certified_user())))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert time.monotonic() - started < 1.2
    # the code may have been consumed: sending it again would only turn into isv.code-invalid
    assert methods_received(fake) == [OAUTH_TOKEN]


async def test_timeout_on_user_info_is_retried_then_fails(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway
) -> None:
    fake.faults[USER_INFO_SHARE] = AlipayFault(delay_s=1.0)
    async with AlipayClient(make_config(keys, gateway_url, timeout_s=0.2)) as c:
        error = await expect_error(c.authenticate(fake.issue_auth_code(certified_user())))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert methods_received(fake) == [OAUTH_TOKEN] + [USER_INFO_SHARE] * 3


class FlakyTransport(httpx.AsyncBaseTransport):
    """Fails the first ``failures`` requests with a connection error, then goes through."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_connection_errors_are_retried(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway
) -> None:
    async with httpx.AsyncClient(transport=FlakyTransport(failures=2)) as http:
        c = AlipayClient(make_config(keys, gateway_url), http)
        identity = await c.authenticate(fake.issue_auth_code(certified_user()))
    assert identity.verified
    assert methods_received(fake) == [OAUTH_TOKEN, USER_INFO_SHARE]


async def test_unreachable_gateway(keys: Keys) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AlipayClient(make_config(keys, f"http://127.0.0.1:{port}/gateway.do")) as c:
        error = await expect_error(c.authenticate("a" * 32))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE


@pytest.mark.parametrize("credential", ["", "   ", "has space", "x" * 600, "中文"])
async def test_malformed_auth_code_is_refused_locally(
    client: AlipayClient, fake: FakeAlipayGateway, credential: str
) -> None:
    error = await expect_error(client.authenticate(credential))
    assert error.code is ErrorCode.PROVIDER_REJECTED
    assert fake.received == []


# -- the gateway's own checks (§1.6 #2-#4, #8), with hand-built requests -------------------


def beijing_now(offset_s: float = 0) -> str:
    return (
        (datetime.now(UTC) + timedelta(seconds=offset_s))
        .astimezone(CHINA_TZ)
        .strftime("%Y-%m-%d %H:%M:%S")
    )


def base_params(method: str = OAUTH_TOKEN, **extra: str) -> dict[str, str]:
    return {
        "app_id": APP_ID,
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": beijing_now(),
        "version": "1.0",
        **extra,
    }


def token_params(fake: FakeAlipayGateway) -> dict[str, str]:
    return base_params(
        grant_type="authorization_code",
        code=fake.issue_auth_code(certified_user()),
        biz_content='{"scene":"login","note":"a/b"}',
    )


async def post_raw(url: str, params: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.post(url, data=params)
    answer: dict[str, Any] = response.json()
    return answer


def node_of(answer: dict[str, Any], method: str = OAUTH_TOKEN) -> dict[str, Any]:
    node: dict[str, Any] = answer.get(method.replace(".", "_") + "_response") or answer.get(
        "error_response", {}
    )
    return node


def _without_sign_type(p: dict[str, str]) -> str:
    return build_sign_content({k: v for k, v in p.items() if k != "sign_type"})


def _with_old_sign(p: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted({**p, "sign": "b2xk"}.items()))


def _url_encoded(p: dict[str, str]) -> str:
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in sorted(p.items()))


def _with_empty_value(p: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted({**p, "app_auth_token": ""}.items()))


@pytest.mark.parametrize(
    ("mistake", "sent_extra"),
    [
        (_without_sign_type, {}),
        (_with_old_sign, {}),
        (_url_encoded, {}),
        (_with_empty_value, {"app_auth_token": ""}),
    ],
    ids=["sign_type-left-out", "sign-included", "url-encoded", "empty-value-signed"],
)
async def test_fake_rejects_signing_mistakes(
    keys: Keys,
    gateway_url: str,
    fake: FakeAlipayGateway,
    mistake: Callable[[dict[str, str]], str],
    sent_extra: dict[str, str],
) -> None:
    params = token_params(fake)
    sent = {**params, **sent_extra}
    sent["sign"] = rsa2_sign(mistake(params), _rsa_private(keys.app_private))
    node = node_of(await post_raw(gateway_url, sent))
    assert (node["code"], node["sub_code"]) == ("40002", "isv.invalid-signature")
    assert node["sub_msg"].endswith(build_sign_content(sent))


async def test_fake_rejects_biz_content_changed_after_signing(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway
) -> None:
    params = token_params(fake)
    params["sign"] = rsa2_sign(build_sign_content(params), _rsa_private(keys.app_private))
    params["biz_content"] = '{"scene": "login", "note": "a/b"}'  # spacing changed
    node = node_of(await post_raw(gateway_url, params))
    assert node["sub_code"] == "isv.invalid-signature"


async def test_fake_accepts_a_correct_hand_signed_request(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway
) -> None:
    params = token_params(fake)
    params["sign"] = rsa2_sign(build_sign_content(params), _rsa_private(keys.app_private))
    node = node_of(await post_raw(gateway_url, params))
    assert node["access_token"].startswith("authusrB")


@pytest.mark.parametrize(
    ("dropped", "sub_code"),
    [
        ("sign", "isv.missing-signature"),
        ("app_id", "isv.missing-app-id"),
        ("timestamp", "isv.missing-timestamp"),
    ],
)
async def test_missing_common_params(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway, dropped: str, sub_code: str
) -> None:
    params = token_params(fake)
    params["sign"] = rsa2_sign(build_sign_content(params), _rsa_private(keys.app_private))
    del params[dropped]
    node = node_of(await post_raw(gateway_url, params))
    assert (node["code"], node["sub_code"]) == ("40001", sub_code)


@pytest.mark.parametrize(
    ("tolerance_s", "offset_s", "accepted"),
    [(600, -1200, False), (600, 300, True), (60, -120, False), (60, -30, True)],
)
async def test_timestamp_skew(
    keys: Keys,
    gateway_url: str,
    fake: FakeAlipayGateway,
    tolerance_s: float,
    offset_s: float,
    accepted: bool,
) -> None:
    fake.timestamp_tolerance_s = tolerance_s

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset_s)

    async with AlipayClient(make_config(keys, gateway_url), clock=clock) as c:
        if accepted:
            assert (await c.authenticate(fake.issue_auth_code(certified_user()))).verified
        else:
            error = await expect_error(c.authenticate(fake.issue_auth_code(certified_user())))
            assert (error.code, error.provider_code) == (
                ErrorCode.PROVIDER_UNAVAILABLE,
                "isv.invalid-timestamp",
            )


async def test_get_with_everything_in_the_query(
    keys: Keys, gateway_url: str, fake: FakeAlipayGateway
) -> None:
    params = token_params(fake)
    params["sign"] = rsa2_sign(build_sign_content(params), _rsa_private(keys.app_private))
    async with httpx.AsyncClient() as http:
        response = await http.get(gateway_url, params=params)
    text = response.text
    raw = top_level_raw_values(text)
    node_text = raw["alipay_system_oauth_token_response"]
    signature = json.loads(raw["sign"])
    assert rsa2_verify(node_text, signature, _rsa_public(keys.alipay_public))
    assert list(raw)[-1] == "alipay_cert_sn"  # a member after sign
    assert fake.received[-1]["form"] == {}


async def test_fake_answer_uses_escapes_that_reserialising_would_lose(
    client: AlipayClient, fake: FakeAlipayGateway, keys: Keys, gateway_url: str
) -> None:
    token = await client.execute(
        OAUTH_TOKEN,
        params={"grant_type": "authorization_code", "code": fake.issue_auth_code(new_user())},
    )
    params = base_params(USER_INFO_SHARE, auth_token=token["access_token"])
    params["sign"] = rsa2_sign(build_sign_content(params), _rsa_private(keys.app_private))
    async with httpx.AsyncClient() as http:
        text = (await http.post(gateway_url, params=params)).text
    node_text = top_level_raw_values(text)["alipay_user_info_share_response"]
    assert "\\/" in node_text and "\\u" in node_text and '"deliver_addresses":[{' in node_text


# -- refresh and user.info.share token errors (§2.6 #4, #5) ---------------------------------


async def test_refresh_token_valid_and_revoked(
    client: AlipayClient, fake: FakeAlipayGateway
) -> None:
    first = await client.execute(
        OAUTH_TOKEN,
        params={"grant_type": "authorization_code", "code": fake.issue_auth_code(new_user())},
        idempotent=False,
    )
    assert int(first["expires_in"]) > 0 and int(first["re_expires_in"]) > 0
    second = await client.execute(
        OAUTH_TOKEN, params={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert second["access_token"] != first["access_token"]
    fake.revoke_refresh_token(second["refresh_token"])
    error = await expect_error(
        client.execute(
            OAUTH_TOKEN,
            params={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        )
    )
    assert (error.code, error.provider_code) == (
        ErrorCode.PROVIDER_REJECTED,
        "isv.refresh-token-invalid",
    )


async def test_user_info_with_garbage_and_expired_tokens(
    client: AlipayClient, fake: FakeAlipayGateway
) -> None:
    error = await expect_error(client.execute(USER_INFO_SHARE, auth_token="garbage"))
    assert (error.code, error.provider_code) == (
        ErrorCode.PROVIDER_REJECTED,
        "aop.invalid-auth-token",
    )
    token = await client.execute(
        OAUTH_TOKEN,
        params={"grant_type": "authorization_code", "code": fake.issue_auth_code(new_user())},
    )
    fake.expire_access_tokens()
    error = await expect_error(client.execute(USER_INFO_SHARE, auth_token=token["access_token"]))
    assert (error.code, error.provider_code) == (
        ErrorCode.PROVIDER_REJECTED,
        "aop.auth-token-time-out",
    )


# -- personal data stays out of logs and errors ------------------------------------------


async def test_no_personal_data_in_logs_errors_or_repr(
    client: AlipayClient, fake: FakeAlipayGateway
) -> None:
    personal = [NAME, ID_NUMBER, ID_NUMBER.upper(), MOBILE]
    with structlog.testing.capture_logs() as logs:
        identity = await client.authenticate(fake.issue_auth_code(certified_user()))
        errors = []
        for fault in (AlipayFault(tamper_body=True), AlipayFault(tamper_signature=True)):
            fake.faults[USER_INFO_SHARE] = fault
            errors.append(
                await expect_error(client.authenticate(fake.issue_auth_code(certified_user())))
            )
        fake.faults.clear()
        errors.append(
            await expect_error(
                client.authenticate(fake.issue_auth_code(certified_user(user_type="1")))
            )
        )
    assert identity.verified
    seen = " ".join(
        [repr(identity), str(identity), repr(logs)] + [repr(e) + str(e) for e in errors]
    )
    assert logs  # the failures were logged
    for value in personal:
        assert value not in seen


async def test_disabled_provider() -> None:
    error = await expect_error(DisabledProvider("alipay").authenticate("code"))
    assert error.code is ErrorCode.PROVIDER_DISABLED
