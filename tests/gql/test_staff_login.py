"""Staff accounts: the portal's username/password rules, argon2 hashes, back-off, per-address limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import server.cli as cli
from models.accounts import StaffAccount, StaffRole, password_ok, username_ok
from models.db import transaction
from models.errors import ErrorCode, ProblemsFound
from server.serve import uvicorn_options
from services.staff import create_staff_account
from tests.api import Api, running_api, settings_for

LOGIN = """mutation($u: String!, $p: String!) { staffLogin(input: {username: $u, password: $p}) {
  accessToken refreshToken viewer { kind role username department { code } } errors { field code message } } }"""


@pytest.mark.parametrize(
    ("username", "ok"),
    [
        ("abcd", True),
        ("a1b2c3", True),
        ("A" * 20, True),
        ("abc", False),
        ("1abc", False),
        ("ab_cd", False),
        ("a" * 21, False),
        ("张三四五", False),
        ("abcd ", False),
    ],
)
def test_username_rule(username: str, ok: bool) -> None:
    assert username_ok(username) is ok


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abc123", True),
        ("abcdef", False),
        ("123456", False),
        ("abc!@#", True),
        ("12345!", True),
        ("a1", False),
        ("a1" * 11, False),
        ("abc 123", False),
        ("密码密码12", False),
    ],
)
def test_password_rule(password: str, ok: bool) -> None:
    assert password_ok(password) is ok


async def _create(
    api: Api,
    username: str = "reviewer1",
    password: str = "secret12",
    role: StaffRole = StaffRole.REVIEWER,
    department: str | None = "330102",
) -> None:
    async with transaction(api.services.db) as db:
        await create_staff_account(
            db,
            api.services.reference,
            username=username,
            password=password,
            role=role,
            department_code=department,
        )


async def test_staff_login_with_the_right_password(api: Api) -> None:
    await _create(api)
    result = (await api.data(LOGIN, {"u": "reviewer1", "p": "secret12"}))["staffLogin"]
    assert result["errors"] == []
    assert result["viewer"] == {
        "kind": "STAFF",
        "role": "REVIEWER",
        "username": "reviewer1",
        "department": {"code": "330102"},
    }
    async with api.services.db() as db:
        account = (await db.exec(select(StaffAccount))).one()
    assert (
        account.password_hash.startswith("$argon2id$") and "secret12" not in account.password_hash
    )


async def test_wrong_password_and_unknown_user_get_the_same_answer(api: Api) -> None:
    await _create(api)
    wrong = (await api.data(LOGIN, {"u": "reviewer1", "p": "wrong123"}))["staffLogin"]
    unknown = (await api.data(LOGIN, {"u": "nobody99", "p": "wrong123"}))["staffLogin"]
    assert wrong["errors"] == unknown["errors"]
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"]
    assert wrong["accessToken"] is None


async def _failures(api: Api, username: str, times: int = 5) -> list[str]:
    codes = []
    for _ in range(times):
        result = (await api.data(LOGIN, {"u": username, "p": "wrong123"}))["staffLogin"]
        codes.append(result["errors"][0]["code"])
    return codes


async def test_a_name_backs_off_after_repeated_failures_from_one_address(api: Api) -> None:
    await _create(api)
    assert await _failures(api, "reviewer1") == ["INVALID_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED"]
    locked = (await api.data(LOGIN, {"u": "reviewer1", "p": "secret12"}))["staffLogin"]
    assert [e["code"] for e in locked["errors"]] == ["ACCOUNT_LOCKED"]
    assert locked["accessToken"] is None


async def test_unknown_and_known_names_answer_alike_even_when_backing_off(api: Api) -> None:
    await _create(api)
    known = await _failures(api, "reviewer1", 6)
    unknown = await _failures(api, "nobody99", 6)
    assert known == unknown == ["INVALID_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED"] * 2


@asynccontextmanager
async def _app_from(api: Api, address: str) -> AsyncIterator[Api]:
    """The same running app, reached from another client address."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Api(http=http, services=api.services, app=api.app)


async def test_failures_from_one_address_do_not_lock_the_account_elsewhere(api: Api) -> None:
    await _create(api)
    assert (await _failures(api, "reviewer1"))[-1] == "ACCOUNT_LOCKED"
    async with _app_from(api, "198.51.100.20") as office:
        result = (await office.data(LOGIN, {"u": "reviewer1", "p": "secret12"}))["staffLogin"]
    assert result["errors"] == [] and result["viewer"]["username"] == "reviewer1"


async def test_forwarded_address_is_believed_only_from_the_named_proxies(
    sqlite_url: str, tmp_path: Path
) -> None:
    for proxies, limited in (("10.0.0.9", False), ("192.0.2.1", True)):
        settings = settings_for(
            sqlite_url, tmp_path, staff_login_per_ip="2/minute", forwarded_allow_ips=proxies
        )
        async with running_api(settings) as api:
            options = uvicorn_options(settings)
            assert options["proxy_headers"] is True
            behind: Any = ProxyHeadersMiddleware(api.app, options["forwarded_allow_ips"])
            transport = httpx.ASGITransport(app=behind, client=("10.0.0.9", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                codes = []
                for n in range(3):  # three people behind the proxy, one attempt each
                    response = await http.post(
                        "/graphql",
                        json={"query": LOGIN, "variables": {"u": "nobody99", "p": "x"}},
                        headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
                    )
                    codes.append(response.json()["data"]["staffLogin"]["errors"][0]["code"])
        # trusted: each person is limited on their own; untrusted: the header is ignored and
        # every attempt counts against the peer's own address
        assert (codes[-1] == "TOO_MANY_ATTEMPTS") is limited, (proxies, codes)


async def test_too_many_attempts_from_one_address(sqlite_url: str, tmp_path: Path) -> None:
    settings = settings_for(sqlite_url, tmp_path, staff_login_per_ip="3/minute")
    async with running_api(settings) as api:
        await _create(api)
        for _ in range(3):
            result = (await api.data(LOGIN, {"u": "nobody99", "p": "x"}))["staffLogin"]
            assert result["errors"][0]["code"] == "INVALID_CREDENTIALS"
        blocked = (await api.data(LOGIN, {"u": "reviewer1", "p": "secret12"}))["staffLogin"]
        assert [e["code"] for e in blocked["errors"]] == ["TOO_MANY_ATTEMPTS"]


async def test_account_creation_enforces_the_rules(api: Api) -> None:
    async with transaction(api.services.db) as db:
        with pytest.raises(ProblemsFound) as caught:
            await create_staff_account(
                db,
                api.services.reference,
                username="1x",
                password="abcdef",
                role=StaffRole.REVIEWER,
                department_code="999999",
            )
    assert {(p.field, p.code) for p in caught.value.problems} == {
        ("username", ErrorCode.USERNAME_FORMAT),
        ("password", ErrorCode.PASSWORD_WEAK),
        ("departmentCode", ErrorCode.UNKNOWN_DEPARTMENT),
    }


def test_cli_creates_a_staff_account(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)  # a migrated copy
    monkeypatch.setenv("STAFF_PASSWORD", "board2026!")
    assert cli.main(["create-staff", "board01", "--role", "DASHBOARD"]) == 0
    assert "created staff account board01" in capsys.readouterr().out
    monkeypatch.setenv("STAFF_PASSWORD", "weak")
    assert cli.main(["create-staff", "board02", "--role", "DASHBOARD"]) == 2
    assert "PASSWORD_WEAK" in capsys.readouterr().err


async def test_unknown_names_cost_the_same_argon2_work_as_known_ones(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.staff as staff

    await _create(api)
    checked: list[str] = []
    real = staff.verify_password

    async def counting(hash_: str, password: str) -> bool:
        checked.append(hash_.split("$")[1])  # the algorithm of the hash verified against
        return await real(hash_, password)

    monkeypatch.setattr(staff, "verify_password", counting)
    for username in ("reviewer1", "nobody99", "x"):  # known, unknown, not even a valid name
        result = (await api.data(LOGIN, {"u": username, "p": "wrong123"}))["staffLogin"]
        assert [e["code"] for e in result["errors"]] == ["INVALID_CREDENTIALS"]
    assert checked == ["argon2id"] * 3


@pytest.mark.parametrize("shared", [False, True])
async def test_the_back_off_is_per_name_and_address_in_memory_and_in_redis(shared: bool) -> None:
    import uuid
    from datetime import timedelta

    from services.staff import LoginBackoff, LoginPolicy
    from tests.services import require_redis

    policy = LoginPolicy(max_failures=2, lock_for=timedelta(minutes=1), per_address="9/minute")
    backoff = LoginBackoff(policy, require_redis() if shared else "")
    name = f"user{uuid.uuid4().hex[:8]}"  # Redis outlives the test
    here, there = (name, 0, "198.51.100.1"), (name, 0, "198.51.100.2")
    assert [await backoff.failed(here) for _ in range(2)] == [False, True]
    assert await backoff.blocked(here) and not await backoff.blocked(there)
    assert not await backoff.blocked((name, 1, "198.51.100.1"))  # unlocked: a new epoch
    await backoff.clear(here)
    assert not await backoff.blocked(here)
    await backoff.aclose()
