"""Applicants sign in through Alipay and 浙里办 (fake gateways that check our signatures), and
the same person reaches the same registration from either app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from models.accounts import AuthSession
from tests.api import Api, running_api, settings_for
from tests.fakes.alipay_gateway import (
    AlipayFault,
    AlipayUser,
    FakeAlipayGateway,
    generate_rsa_keypair,
)
from tests.fakes.irs_gateway import FakeIrsGateway, IrsFault, ZlbUser
from tests.fakes.server import run_asgi_server
from tests.wizard import MY_REGISTRATION, START, submitted_registration

ALIPAY_APP_ID = "2021000000000001"
ZLB_AK, ZLB_SK, ZLB_APP_ID = "BCDSGA_app0000000000001", "BCDSGS_secret00000000001", "2002000001"
ID_NUMBER = "330106199003071236"

LOGIN_ALIPAY = """mutation($c: String!) { loginWithAlipay(authCode: $c) {
  accessToken viewer { kind name identityVerified provider maskedIdNumber } errors { field code message } } }"""
LOGIN_ZLB = """mutation($t: String!) { loginWithZlb(ticket: $t) {
  accessToken viewer { kind name identityVerified provider } errors { field code message } } }"""

_n = count(1)


@dataclass
class Gateways:
    alipay: FakeAlipayGateway
    alipay_url: str
    app_private_key: str
    alipay_public_key: str
    irs: FakeIrsGateway
    irs_url: str


@pytest.fixture(scope="module")
def gateways() -> Iterator[Gateways]:
    app_private, app_public = generate_rsa_keypair()
    alipay_private, alipay_public = generate_rsa_keypair()
    alipay = FakeAlipayGateway(
        app_id=ALIPAY_APP_ID, app_public_key_pem=app_public, alipay_private_key_pem=alipay_private
    )
    irs = FakeIrsGateway(credentials={ZLB_AK: ZLB_SK}, app_ids={ZLB_APP_ID})
    with run_asgi_server(alipay.app) as alipay_base, run_asgi_server(irs.app) as irs_base:
        yield Gateways(
            alipay, alipay_base + "/gateway.do", app_private, alipay_public, irs, irs_base
        )


@pytest.fixture(params=["ticket", "token"])
async def provider_api(
    request: pytest.FixtureRequest, gateways: Gateways, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Api]:
    gateways.alipay.reset()
    gateways.irs.reset()
    key_file = tmp_path / "app_private.pem"
    key_file.write_text(gateways.app_private_key)  # a key given as a file path works too
    settings = settings_for(
        sqlite_url,
        tmp_path,
        alipay_gateway_url=gateways.alipay_url,
        alipay_app_id=ALIPAY_APP_ID,
        alipay_app_private_key=str(key_file),
        alipay_public_key=gateways.alipay_public_key,
        zlb_gateway_url=gateways.irs_url,
        zlb_access_key=ZLB_AK,
        zlb_secret_key=ZLB_SK,
        zlb_app_id=ZLB_APP_ID,
        zlb_sso_flow=request.param,
    )
    async with running_api(settings) as api:
        api.services.cache["flow"] = request.param
        yield api


def alipay_user(**fields: Any) -> AlipayUser:
    n = next(_n)
    values: dict[str, Any] = {
        "user_id": f"2088{n:012d}",
        "open_id": f"074a{n:040d}",
        "user_name": "张三",
        "cert_type": "0",
        "cert_no": ID_NUMBER,
        "mobile": "13812345678",
    }
    values.update(fields)
    return AlipayUser(**values)


def zlb_user(**fields: Any) -> ZlbUser:
    n = next(_n)
    values: dict[str, Any] = {
        "user_id": f"8a1189c8{n:024x}",
        "login_name": f"user{n}",
        "name": "张三",
        "id_number": ID_NUMBER,
        "phone": "13812345678",
    }
    values.update(fields)
    return ZlbUser(**values)


def zlb_ticket(api: Api, gateways: Gateways, user: ZlbUser, audience: str | None = None) -> str:
    if api.services.cache["flow"] == "ticket":
        return gateways.irs.issue_simpleauth_ticket(user, audience or ZLB_AK)
    return gateways.irs.issue_sso_ticket(user, audience or ZLB_APP_ID)


async def login(
    api: Api, mutation: str, credential: str, token: str | None = None
) -> dict[str, Any]:
    variables = {"c": credential} if "authCode" in mutation else {"t": credential}
    data = await api.data(mutation, variables, token=token)
    return next(iter(data.values()))  # type: ignore[no-any-return]


async def session_count(api: Api) -> int:
    async with api.services.db() as db:
        return (await db.exec(select(func.count()).select_from(AuthSession))).one()


async def test_wizard_with_an_alipay_sign_in(provider_api: Api, gateways: Gateways) -> None:
    result = await login(provider_api, LOGIN_ALIPAY, gateways.alipay.issue_auth_code(alipay_user()))
    assert result["errors"] == []
    assert result["viewer"] == {
        "kind": "APPLICANT",
        "name": "张三",
        "identityVerified": True,
        "provider": "alipay",
        "maskedIdNumber": "330106********1236",
    }
    applicant = provider_api.as_user(result["accessToken"])
    registration = await submitted_registration(applicant)
    assert registration["status"] == "SUBMITTED"
    assert registration["basicInfo"]["idNumber"] == ID_NUMBER
    assert registration["basicInfo"]["gender"] == "MALE"


async def test_wizard_with_a_zlb_sign_in(provider_api: Api, gateways: Gateways) -> None:
    result = await login(provider_api, LOGIN_ZLB, zlb_ticket(provider_api, gateways, zlb_user()))
    assert result["errors"] == [] and result["viewer"]["identityVerified"] is True
    registration = await submitted_registration(provider_api.as_user(result["accessToken"]))
    assert registration["status"] == "SUBMITTED"


async def test_both_apps_reach_the_same_registration(provider_api: Api, gateways: Gateways) -> None:
    by_alipay = await login(
        provider_api, LOGIN_ALIPAY, gateways.alipay.issue_auth_code(alipay_user())
    )
    started = (await provider_api.data(START, token=by_alipay["accessToken"]))["startRegistration"]
    by_zlb = await login(provider_api, LOGIN_ZLB, zlb_ticket(provider_api, gateways, zlb_user()))
    mine = (await provider_api.data(MY_REGISTRATION, token=by_zlb["accessToken"]))["myRegistration"]
    assert mine["id"] == started["registration"]["id"]


async def test_unverified_alipay_login_links_through_zlb(
    provider_api: Api, gateways: Gateways
) -> None:
    gateways.alipay.sensitive_fields = False  # the app may not read the real-name fields
    user = alipay_user()
    first = await login(provider_api, LOGIN_ALIPAY, gateways.alipay.issue_auth_code(user))
    assert first["errors"] == [] and first["viewer"]["identityVerified"] is False
    refused = (await provider_api.data(START, token=first["accessToken"]))["startRegistration"]
    assert [e["code"] for e in refused["errors"]] == ["IDENTITY_NOT_VERIFIED"]
    assert refused["registration"] is None
    # signing in through 浙里办 while holding the Alipay session links the Alipay login
    linked = await login(
        provider_api,
        LOGIN_ZLB,
        zlb_ticket(provider_api, gateways, zlb_user()),
        token=first["accessToken"],
    )
    assert linked["viewer"]["identityVerified"] is True
    again = await login(provider_api, LOGIN_ALIPAY, gateways.alipay.issue_auth_code(user))
    assert again["viewer"]["identityVerified"] is True
    started = (await provider_api.data(START, token=again["accessToken"]))["startRegistration"]
    assert started["errors"] == []


async def test_refused_sign_ins_create_no_session(provider_api: Api, gateways: Gateways) -> None:
    used = gateways.alipay.issue_auth_code(alipay_user())
    await login(provider_api, LOGIN_ALIPAY, used)
    before = await session_count(provider_api)
    cases: list[tuple[str, str, str]] = [
        (LOGIN_ALIPAY, used, "PROVIDER_REJECTED"),
        (
            LOGIN_ALIPAY,
            gateways.alipay.issue_auth_code(alipay_user(), ttl_s=-1),
            "PROVIDER_REJECTED",
        ),
        (LOGIN_ALIPAY, "", "PROVIDER_REJECTED"),
        (LOGIN_ALIPAY, "x" * 5000, "PROVIDER_REJECTED"),
        (
            LOGIN_ALIPAY,
            gateways.alipay.issue_auth_code(alipay_user(user_type="1")),
            "NOT_A_PERSONAL_ACCOUNT",
        ),
        (
            LOGIN_ZLB,
            zlb_ticket(provider_api, gateways, zlb_user(auth_level=1)),
            "REAL_NAME_LEVEL_TOO_LOW",
        ),
        (
            LOGIN_ZLB,
            zlb_ticket(provider_api, gateways, zlb_user(), audience="another-app"),
            "PROVIDER_REJECTED",
        ),
        (LOGIN_ZLB, "ST-" + "0" * 32, "PROVIDER_REJECTED"),
    ]
    if provider_api.services.cache["flow"] == "token":  # only the unified SSO reports userType
        legal = zlb_ticket(provider_api, gateways, zlb_user(user_type="LEGAL_PERSON"))
        cases.append((LOGIN_ZLB, legal, "NOT_A_PERSONAL_ACCOUNT"))
    for mutation, credential, code in cases:
        result = await login(provider_api, mutation, credential)
        assert [e["code"] for e in result["errors"]] == [code], (
            mutation[:25],
            code,
            result["errors"],
        )
        assert result["accessToken"] is None
    assert await session_count(provider_api) == before


async def test_forged_answers_and_outages_are_unavailable(
    provider_api: Api, gateways: Gateways
) -> None:
    gateways.alipay.faults["alipay.system.oauth.token"] = AlipayFault(tamper_signature=True)
    result = await login(provider_api, LOGIN_ALIPAY, gateways.alipay.issue_auth_code(alipay_user()))
    assert [e["code"] for e in result["errors"]] == ["PROVIDER_UNAVAILABLE"]
    gateways.alipay.faults["alipay.system.oauth.token"] = AlipayFault(http_status=502)
    result = await login(provider_api, LOGIN_ALIPAY, gateways.alipay.issue_auth_code(alipay_user()))
    assert [e["code"] for e in result["errors"]] == ["PROVIDER_UNAVAILABLE"]
    gateways.irs.faults["*"] = IrsFault(http_status=504)
    result = await login(provider_api, LOGIN_ZLB, zlb_ticket(provider_api, gateways, zlb_user()))
    assert [e["code"] for e in result["errors"]] == ["PROVIDER_UNAVAILABLE"]
    assert result["accessToken"] is None


async def test_unconfigured_providers_say_so(api: Api) -> None:
    result = await login(api, LOGIN_ALIPAY, "some-code")
    assert [e["code"] for e in result["errors"]] == ["PROVIDER_DISABLED"]
    result = await login(api, LOGIN_ZLB, "ST-x")
    assert [e["code"] for e in result["errors"]] == ["PROVIDER_DISABLED"]
