"""ZlbClient against the fake IRS gateway over real HTTP (protocols.md §3.5)."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import httpx
import pytest
import structlog

from integrations.identity import IdentityError, ProviderIdentity, ZlbClient, ZlbConfig
from integrations.identity.zlb import (
    irs_date,
    irs_headers,
    irs_signature,
    map_simpleauth_id_type,
    map_sso_id_type,
    simpleauth_sign,
)
from models.errors import ErrorCode
from tests.fakes.irs_gateway import (
    ACCESS_TOKEN_IC,
    SIMPLEAUTH_USER_IC,
    TICKET_VALIDATION_IC,
    FakeIrsGateway,
    IrsFault,
    ZlbUser,
)
from tests.fakes.server import run_asgi_server

AK = "BCDSGA_0123456789abcdef"
SK = "BCDSGS_fedcba9876543210"
LIMITED_AK = "BCDSGA_limited"
LIMITED_SK = "BCDSGS_limited"
APP_ID = "2002000001"
OTHER_APP_ID = "2002000999"
OTHER_SERVICE_CODE = "other_service"
NAME = "李四光"
ID_NUMBER = "33010619900307001x"
PHONE = "13900139000"

Flow = Literal["ticket", "token"]


@pytest.fixture(scope="module")
def fake() -> FakeIrsGateway:
    return FakeIrsGateway(
        credentials={AK: SK, LIMITED_AK: LIMITED_SK, OTHER_SERVICE_CODE: "other_pwd"},
        app_ids={APP_ID, OTHER_APP_ID},
        grants={LIMITED_AK: {TICKET_VALIDATION_IC, ACCESS_TOKEN_IC}},
    )


@pytest.fixture(scope="module")
def gateway_url(fake: FakeIrsGateway) -> Iterator[str]:
    with run_asgi_server(fake.app) as base_url:
        yield base_url


@pytest.fixture(autouse=True)
def _reset_fake(fake: FakeIrsGateway) -> None:
    fake.reset()


def make_config(url: str, flow: Flow, **overrides: Any) -> ZlbConfig:
    settings: dict[str, Any] = {
        "gateway_url": url,
        "access_key": AK,
        "secret_key": SK,
        "app_id": APP_ID,
        "sso_flow": flow,
        "timeout_s": 2.0,
    }
    settings.update(overrides)
    return ZlbConfig(**settings)


@pytest.fixture
async def ticket_client(gateway_url: str) -> AsyncIterator[ZlbClient]:
    async with ZlbClient(make_config(gateway_url, "ticket")) as c:
        yield c


@pytest.fixture
async def token_client(gateway_url: str) -> AsyncIterator[ZlbClient]:
    async with ZlbClient(make_config(gateway_url, "token")) as c:
        yield c


_seq = itertools.count(1)


def new_user(**fields: Any) -> ZlbUser:
    n = next(_seq)
    data: dict[str, Any] = {
        "user_id": f"8a1189c8{n:024x}",
        "login_name": f"user{n}",
        "name": NAME,
        "id_number": ID_NUMBER,
        "phone": PHONE,
    }
    data.update(fields)
    return ZlbUser(**data)


def ticket_for(fake: FakeIrsGateway, flow: Flow, user: ZlbUser, **kw: Any) -> str:
    if flow == "ticket":
        return fake.issue_simpleauth_ticket(user, kw.pop("audience", AK), **kw)
    return fake.issue_sso_ticket(user, kw.pop("audience", APP_ID), **kw)


async def expect_error(coro: Any) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        await coro
    return info.value


def skewed(seconds: float) -> Any:
    return lambda: datetime.now(UTC) + timedelta(seconds=seconds)


# -- §3.1 test vectors -------------------------------------------------------------------


def test_hmac_test_vector() -> None:
    beijing = timezone(timedelta(hours=8))
    date = irs_date(datetime(2021, 11, 9, 16, 49, 20, tzinfo=beijing))  # sent as real UTC
    assert date == "Tue, 09 Nov 2021 08:49:20 GMT"
    path = "/restapi/prod/IC33000020220329000007/uc/sso/access_token"
    signature = irs_signature("testsk", "post", path, "", "testak", date)
    assert signature == "3SF7204IUKbW3WZuRipgG84wG4L37czffUyaj6antQY="
    headers = irs_headers(
        access_key="testak",
        secret_key="testsk",
        method="POST",
        path=path,
        now=datetime(2021, 11, 9, 8, 49, 20, 123456, tzinfo=UTC),
    )
    assert headers == {
        "X-BG-HMAC-ACCESS-KEY": "testak",
        "X-BG-HMAC-ALGORITHM": "hmac-sha256",
        "X-BG-DATE-TIME": "Tue, 09 Nov 2021 08:49:20 GMT",
        "X-BG-HMAC-SIGNATURE": "3SF7204IUKbW3WZuRipgG84wG4L37czffUyaj6antQY=",
    }


def test_simpleauth_md5_test_vector() -> None:
    assert simpleauth_sign("svccode", "svcpwd", "20240501103000") == (
        "dec59810810680303679c71d6b8f04eb"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", "01"), ("2", "04"), ("3", "99"), ("4", "02"), ("5", "03"), ("6", "05"), (1, "01")],
)
def test_simpleauth_id_type_mapping(value: object, expected: str) -> None:
    assert map_simpleauth_id_type(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ID_CARD", "01"),
        ("MAINLAND_TRAVEL_PERMIT_FOR_HONGKONG_AND_MACAO_RESIDENTS", "02"),
        ("MAINLAND_TRAVEL_PERMIT_FOR_TAIWAN_RESIDENTS", "03"),
        ("PASSPORT", "04"),
        ("FOREIGN_PASSPORT", "04"),
        ("FOREIGN_PERMANENT_RESIDENT_ID_CARD", "05"),
        ("OFFICER_CARD", "99"),
        ("GANG_AO_TAI_RESIDENCE_CART", "99"),
        ("OTHER", "99"),
        (None, None),
    ],
)
def test_sso_id_type_mapping(value: str | None, expected: str | None) -> None:
    assert map_sso_id_type(value) == expected


# -- flow "ticket": simpleauth (§3.5 #3) ------------------------------------------------------


@pytest.mark.parametrize("level", [2, 3])
async def test_simpleauth_login(ticket_client: ZlbClient, fake: FakeIrsGateway, level: int) -> None:
    user = new_user(auth_level=level)
    identity = await ticket_client.authenticate(ticket_for(fake, "ticket", user))
    assert identity == ProviderIdentity(
        provider="zlb",
        subject=user.user_id,
        verified=True,
        name=NAME,
        id_type="01",
        id_number=ID_NUMBER.upper(),
        phone=PHONE,
    )
    assert fake.calls == ["ticketValidation", "simpleauth.getUserInfo"]


async def test_simpleauth_level_1_is_refused(
    ticket_client: ZlbClient, fake: FakeIrsGateway
) -> None:
    error = await expect_error(
        ticket_client.authenticate(ticket_for(fake, "ticket", new_user(auth_level=1)))
    )
    assert error.code is ErrorCode.REAL_NAME_LEVEL_TOO_LOW


async def test_simpleauth_ticket_reused(ticket_client: ZlbClient, fake: FakeIrsGateway) -> None:
    ticket = ticket_for(fake, "ticket", new_user())
    await ticket_client.authenticate(ticket)
    error = await expect_error(ticket_client.authenticate(ticket))
    assert (error.code, error.provider_code) == (ErrorCode.PROVIDER_REJECTED, "6001")


async def test_simpleauth_ticket_expired(ticket_client: ZlbClient, fake: FakeIrsGateway) -> None:
    ticket = ticket_for(fake, "ticket", new_user(), ttl_s=-1)
    error = await expect_error(ticket_client.authenticate(ticket))
    assert (error.code, error.provider_code) == (ErrorCode.PROVIDER_REJECTED, "6001")


async def test_simpleauth_ticket_for_another_service(
    ticket_client: ZlbClient, fake: FakeIrsGateway
) -> None:
    ticket = ticket_for(fake, "ticket", new_user(), audience=OTHER_SERVICE_CODE)
    error = await expect_error(ticket_client.authenticate(ticket))
    assert (error.code, error.provider_code) == (ErrorCode.PROVIDER_REJECTED, "6003")


@pytest.mark.parametrize(
    ("ticket", "result"), [("ST-" + "0" * 32, "6002"), ("not-a-ticket", "6004")]
)
async def test_simpleauth_unknown_and_malformed_tickets(
    ticket_client: ZlbClient, ticket: str, result: str
) -> None:
    error = await expect_error(ticket_client.authenticate(ticket))
    assert (error.code, error.provider_code) == (ErrorCode.PROVIDER_REJECTED, result)


async def test_simpleauth_bad_md5_sign(gateway_url: str, fake: FakeIrsGateway) -> None:
    config = make_config(gateway_url, "ticket", service_password="wrong-password")
    async with ZlbClient(config) as c:
        error = await expect_error(c.authenticate(ticket_for(fake, "ticket", new_user())))
    assert (error.code, error.provider_code) == (ErrorCode.PROVIDER_UNAVAILABLE, "6099")


async def test_simpleauth_separate_service_code(gateway_url: str, fake: FakeIrsGateway) -> None:
    config = make_config(
        gateway_url, "ticket", service_code=OTHER_SERVICE_CODE, service_password="other_pwd"
    )
    ticket = ticket_for(fake, "ticket", new_user(), audience=OTHER_SERVICE_CODE)
    async with ZlbClient(config) as c:
        assert (await c.authenticate(ticket)).verified


async def test_simpleauth_stale_time(gateway_url: str, fake: FakeIrsGateway) -> None:
    fake.simpleauth_time_tolerance_s = 30
    # 60 s off: inside the gateway's 90 s, outside simpleauth's 30 s
    async with ZlbClient(make_config(gateway_url, "ticket"), clock=skewed(60)) as c:
        error = await expect_error(c.authenticate(ticket_for(fake, "ticket", new_user())))
    assert (error.code, error.provider_code) == (ErrorCode.PROVIDER_UNAVAILABLE, "6099")


# -- flow "token": unified SSO (§3.5 #4) ---------------------------------------------------


@pytest.mark.parametrize("level", [2, 3])
async def test_sso_login(token_client: ZlbClient, fake: FakeIrsGateway, level: int) -> None:
    user = new_user(auth_level=level)
    identity = await token_client.authenticate(ticket_for(fake, "token", user))
    assert identity == ProviderIdentity(
        "zlb", user.user_id, True, NAME, "01", "33010619900307001X", PHONE
    )
    assert fake.calls == ["access_token", "sso.getUserInfo"]


async def test_sso_level_1_is_refused(token_client: ZlbClient, fake: FakeIrsGateway) -> None:
    error = await expect_error(
        token_client.authenticate(ticket_for(fake, "token", new_user(auth_level=1)))
    )
    assert error.code is ErrorCode.REAL_NAME_LEVEL_TOO_LOW


async def test_sso_without_a_level_field(token_client: ZlbClient, fake: FakeIrsGateway) -> None:
    user = new_user(report_level_in_sso=False)
    identity = await token_client.authenticate(ticket_for(fake, "token", user))
    assert identity.verified


async def test_sso_ticket_for_another_app(token_client: ZlbClient, fake: FakeIrsGateway) -> None:
    ticket = ticket_for(fake, "token", new_user(), audience=OTHER_APP_ID)
    error = await expect_error(token_client.authenticate(ticket))
    assert (error.code, error.provider_code) == (
        ErrorCode.PROVIDER_REJECTED,
        "C-USER-SSO-TICKET-INVALID",
    )


@pytest.mark.parametrize("case", ["reused", "expired", "unknown"])
async def test_sso_invalid_tickets(
    token_client: ZlbClient, fake: FakeIrsGateway, case: str
) -> None:
    if case == "unknown":
        ticket = "debug_tk_" + "0" * 32
    else:
        ticket = ticket_for(fake, "token", new_user(), ttl_s=-1 if case == "expired" else None)
        if case == "reused":
            await token_client.authenticate(ticket)
    error = await expect_error(token_client.authenticate(ticket))
    assert (error.code, error.provider_code) == (
        ErrorCode.PROVIDER_REJECTED,
        "C-USER-SSO-TICKET-INVALID",
    )


async def test_sso_bad_token(
    token_client: ZlbClient, fake: FakeIrsGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake, "token_ttl_s", -1.0)  # tokens are born expired
    error = await expect_error(token_client.authenticate(ticket_for(fake, "token", new_user())))
    assert (error.code, error.provider_code) == (
        ErrorCode.PROVIDER_REJECTED,
        "C-USER-SSO-TOKEN-INVALID",
    )


async def test_sso_user_empty(
    token_client: ZlbClient, fake: FakeIrsGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = fake._sso_user_info

    def drop_user_first(body: dict[str, Any]) -> dict[str, Any]:
        fake.delete_user_behind_tokens()
        return original(body)

    monkeypatch.setattr(fake, "_sso_user_info", drop_user_first)
    error = await expect_error(token_client.authenticate(ticket_for(fake, "token", new_user())))
    assert (error.code, error.provider_code) == (
        ErrorCode.PROVIDER_REJECTED,
        "C-USER-SSO-USER-EMPTY",
    )


async def test_sso_legal_person_is_refused(token_client: ZlbClient, fake: FakeIrsGateway) -> None:
    user = new_user(user_type="LEGAL_PERSON")
    error = await expect_error(token_client.authenticate(ticket_for(fake, "token", user)))
    assert error.code is ErrorCode.NOT_A_PERSONAL_ACCOUNT


# -- ID types, both flows (§3.5 #5) ----------------------------------------------------------


@pytest.mark.parametrize("flow", ["ticket", "token"])
@pytest.mark.parametrize(
    ("id_type", "expected"),
    [
        ("ID_CARD", "01"),
        ("MAINLAND_TRAVEL_PERMIT_FOR_HONGKONG_AND_MACAO_RESIDENTS", "02"),
        ("MAINLAND_TRAVEL_PERMIT_FOR_TAIWAN_RESIDENTS", "03"),
        ("PASSPORT", "04"),
        ("FOREIGN_PERMANENT_RESIDENT_ID_CARD", "05"),
        ("OFFICER_CARD", "99"),
    ],
)
async def test_id_types_over_http(
    gateway_url: str, fake: FakeIrsGateway, flow: Flow, id_type: str, expected: str
) -> None:
    user = new_user(id_type=id_type, id_number="H01234567")
    async with ZlbClient(make_config(gateway_url, flow)) as c:
        identity = await c.authenticate(ticket_for(fake, flow, user))
    # a non-resident-ID user is still verified; gender and birth date are entered by hand
    assert (identity.verified, identity.id_type, identity.id_number) == (
        True,
        expected,
        "H01234567",
    )


# -- the gateway's HMAC checks (§3.5 #1, #2) --------------------------------------------------


@pytest.mark.parametrize("flow", ["ticket", "token"])
@pytest.mark.parametrize(
    ("overrides", "clock_offset_s", "message"),
    [
        ({"secret_key": "wrong-sk", "service_password": SK}, 0, "Invalid signature"),
        ({"access_key": "BCDSGA_unknown", "service_code": AK}, 0, "Invalid access key"),
        ({}, 120, "Clock skew exceeded"),
        ({}, -120, "Clock skew exceeded"),
        (
            {
                "access_key": LIMITED_AK,
                "secret_key": LIMITED_SK,
                "service_code": AK,
                "service_password": SK,
            },
            0,
            "The route_id is forbidden.",
        ),
    ],
    ids=["bad-signature", "unknown-ak", "skew-ahead", "skew-behind", "route-forbidden"],
)
async def test_gateway_refusals(
    gateway_url: str,
    fake: FakeIrsGateway,
    flow: Flow,
    overrides: dict[str, str],
    clock_offset_s: float,
    message: str,
) -> None:
    config = make_config(gateway_url, flow, **overrides)
    async with ZlbClient(config, clock=skewed(clock_offset_s)) as c:
        error = await expect_error(c.authenticate(ticket_for(fake, flow, new_user())))
    assert (error.code, error.provider_code) == (ErrorCode.PROVIDER_UNAVAILABLE, message)


@pytest.mark.parametrize("offset_s", [-60, 60])
async def test_clock_skew_within_90s_is_accepted(
    gateway_url: str, fake: FakeIrsGateway, offset_s: float
) -> None:
    async with ZlbClient(make_config(gateway_url, "token"), clock=skewed(offset_s)) as c:
        assert (await c.authenticate(ticket_for(fake, "token", new_user()))).verified


async def raw_call(
    url: str,
    path: str,
    *,
    signed_query: dict[str, str] | list[tuple[str, str]],
    sent_query: dict[str, str] | list[tuple[str, str]],
    signed_path: str | None = None,
    body: bytes = b"{}",
) -> httpx.Response:
    headers = irs_headers(
        access_key=AK,
        secret_key=SK,
        method="POST",
        path=signed_path or path,
        query=signed_query,
        now=datetime.now(UTC),
    )
    pairs = sent_query.items() if isinstance(sent_query, dict) else sent_query
    params: list[tuple[str, str | int | float | bool | None]] = list(pairs)
    async with httpx.AsyncClient() as http:
        return await http.post(
            url + path,
            params=params,
            headers={**headers, "Content-Type": "application/json"},
            content=body,
        )


SSO_PATH = f"/restapi/prod/{ACCESS_TOKEN_IC}/uc/sso/access_token"


async def test_signature_covers_the_sorted_query(gateway_url: str) -> None:
    query = [("b", "2"), ("a", "1"), ("c", "x y")]
    ok = await raw_call(gateway_url, SSO_PATH, signed_query=query, sent_query=query)
    assert ok.status_code == 200  # through the gateway; the SSO itself answers
    assert ok.json()["success"] is False
    tampered = await raw_call(
        gateway_url, SSO_PATH, signed_query=query, sent_query=[("b", "2"), ("a", "9"), ("c", "x y")]
    )
    assert (tampered.status_code, tampered.json()) == (401, {"message": "Invalid signature"})
    unsigned = await raw_call(gateway_url, SSO_PATH, signed_query={}, sent_query=query)
    assert unsigned.status_code == 401


async def test_signature_covers_the_path_but_not_the_body(gateway_url: str) -> None:
    other_path = f"/restapi/prod/{SIMPLEAUTH_USER_IC}/sso/servlet/simpleauth"
    wrong_path = await raw_call(
        gateway_url, SSO_PATH, signed_query={}, sent_query={}, signed_path=other_path
    )
    assert wrong_path.status_code == 401
    for body in (b"{}", b'{"ticketId":"x","appId":"y"}', b"not even json"):
        answer = await raw_call(gateway_url, SSO_PATH, signed_query={}, sent_query={}, body=body)
        assert answer.status_code == 200


async def test_missing_hmac_headers(gateway_url: str) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(gateway_url + SSO_PATH, json={})
    assert (answer.status_code, answer.json()) == (401, {"message": "Invalid access key"})


# -- network failures (§3.5 #6) -----------------------------------------------------------


@pytest.mark.parametrize("flow", ["ticket", "token"])
@pytest.mark.parametrize(
    "fault",
    [IrsFault(http_status=502), IrsFault(http_status=504), IrsFault(garbage=True)],
    ids=["502", "504", "garbage"],
)
async def test_gateway_down_or_garbled(
    gateway_url: str, fake: FakeIrsGateway, flow: Flow, fault: IrsFault
) -> None:
    fake.faults["*"] = fault
    async with ZlbClient(make_config(gateway_url, flow)) as c:
        error = await expect_error(c.authenticate(ticket_for(fake, flow, new_user())))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE


@pytest.mark.parametrize(
    ("flow", "route", "attempts"),
    [
        ("ticket", "ticketValidation", 1),  # consumes the ticket: never re-sent
        ("token", "access_token", 1),
        ("ticket", "simpleauth.getUserInfo", 3),  # a read: retried
        ("token", "sso.getUserInfo", 3),
    ],
)
async def test_timeouts(
    gateway_url: str, fake: FakeIrsGateway, flow: Flow, route: str, attempts: int
) -> None:
    fake.faults[route] = IrsFault(delay_s=1.0)
    async with ZlbClient(make_config(gateway_url, flow, timeout_s=0.2)) as c:
        started = time.monotonic()
        error = await expect_error(c.authenticate(ticket_for(fake, flow, new_user())))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert fake.calls.count(route) == attempts
    assert time.monotonic() - started < 0.2 * attempts + 0.9


async def test_unreachable_gateway() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with ZlbClient(make_config(f"http://127.0.0.1:{port}", "token")) as c:
        error = await expect_error(c.authenticate("debug_tk_" + "1" * 32))
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE


@pytest.mark.parametrize("credential", ["", " ", "two words", "x" * 600])
async def test_malformed_ticket_is_refused_locally(
    token_client: ZlbClient, fake: FakeIrsGateway, credential: str
) -> None:
    error = await expect_error(token_client.authenticate(credential))
    assert error.code is ErrorCode.PROVIDER_REJECTED
    assert fake.calls == []


def test_unknown_flow_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        ZlbClient(make_config("http://127.0.0.1:1", "sms"))  # type: ignore[arg-type]


# -- personal data stays out of logs and errors ------------------------------------------


async def test_no_personal_data_in_logs_or_errors(
    ticket_client: ZlbClient, token_client: ZlbClient, fake: FakeIrsGateway
) -> None:
    with structlog.testing.capture_logs() as logs:
        identity = await token_client.authenticate(ticket_for(fake, "token", new_user()))
        errors = [
            await expect_error(
                ticket_client.authenticate(ticket_for(fake, "ticket", new_user(auth_level=1)))
            ),
            await expect_error(
                token_client.authenticate(
                    ticket_for(fake, "token", new_user(user_type="LEGAL_PERSON"))
                )
            ),
        ]
    assert identity.verified and logs
    seen = " ".join([repr(identity), repr(logs)] + [repr(e) + str(e) for e in errors])
    for value in (NAME, ID_NUMBER, ID_NUMBER.upper(), PHONE):
        assert value not in seen
