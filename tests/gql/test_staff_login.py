"""Staff accounts: the portal's username/password rules, argon2 hashes, lockout, per-address limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

import server.cli as cli
from models.accounts import StaffAccount, StaffRole, password_ok, username_ok
from models.db import transaction
from models.errors import ErrorCode, ProblemsFound
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


async def test_account_locks_after_repeated_failures(api: Api) -> None:
    await _create(api)
    codes = []
    for _ in range(5):
        result = (await api.data(LOGIN, {"u": "reviewer1", "p": "wrong123"}))["staffLogin"]
        codes.append(result["errors"][0]["code"])
    assert codes == ["INVALID_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED"]
    locked = (await api.data(LOGIN, {"u": "reviewer1", "p": "secret12"}))["staffLogin"]
    assert [e["code"] for e in locked["errors"]] == ["ACCOUNT_LOCKED"]
    assert locked["accessToken"] is None


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
