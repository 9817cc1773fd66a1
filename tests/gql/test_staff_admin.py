"""Staff administration by PROVINCE (and the CLI), and staff changing their own password."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import server.cli as cli
import server.migrate as migrate
from models.accounts import StaffRole
from models.db import transaction
from services.staff import create_staff_account
from tests.api import Api

LOGIN = """mutation($u: String!, $p: String!) { staffLogin(input: {username: $u, password: $p}) {
  accessToken refreshToken viewer { username department { code } } errors { field code } } }"""
VIEWER = "{ viewer { username department { code } } }"
REFRESH = (
    """mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken errors { code } } }"""
)
ADMIN = """mutation($u: String!) {{ {name}(input: {{username: $u{extra}}}) {{
  account {{ username active role department {{ code }} }} errors {{ field code message }} }} }}"""
CHANGE = """mutation($c: String!, $n: String!) { changeMyPassword(input: {currentPassword: $c, newPassword: $n}) {
  ok errors { field code } } }"""


async def _create(
    api: Api, username: str, role: StaffRole = StaffRole.REVIEWER, department: str | None = "330102"
) -> None:
    async with transaction(api.services.db) as db:
        await create_staff_account(
            db,
            api.services.reference,
            username=username,
            password="secret12",
            role=role,
            department_code=department,
        )


async def _login(api: Api, username: str, password: str = "secret12") -> dict[str, Any]:
    return (await api.data(LOGIN, {"u": username, "p": password}))["staffLogin"]


async def _province(api: Api) -> Api:
    await _create(api, "province1", StaffRole.PROVINCE, None)
    return api.as_user(str((await _login(api, "province1"))["accessToken"]))


async def _admin(api: Api, name: str, username: str, **extra: str) -> dict[str, Any]:
    args = "".join(f", {key}: {value!r}".replace("'", '"') for key, value in extra.items())
    return (await api.data(ADMIN.format(name=name, extra=args), {"u": username}))[name]


async def test_deactivation_ends_sessions_at_once_and_reactivation_restores_sign_in(
    api: Api,
) -> None:
    province = await _province(api)
    await _create(api, "reviewer1")
    session = await _login(api, "reviewer1")
    reviewer = api.as_user(str(session["accessToken"]))
    assert (await reviewer.data(VIEWER))["viewer"]["username"] == "reviewer1"
    result = await _admin(province, "deactivateStaff", "reviewer1")
    assert result["errors"] == [] and result["account"]["active"] is False
    assert (await reviewer.data(VIEWER))["viewer"] is None
    refreshed = (await api.data(REFRESH, {"t": session["refreshToken"]}))["refreshSession"]
    assert [e["code"] for e in refreshed["errors"]] == ["REFRESH_TOKEN_INVALID"]
    assert [e["code"] for e in (await _login(api, "reviewer1"))["errors"]] == [
        "INVALID_CREDENTIALS"
    ]
    assert (await _admin(province, "reactivateStaff", "reviewer1"))["account"]["active"] is True
    assert (await _login(api, "reviewer1"))["errors"] == []


async def test_bad_administration_input_gets_field_errors_and_changes_nothing(api: Api) -> None:
    province = await _province(api)
    await _create(api, "reviewer1")
    unknown = await _admin(province, "deactivateStaff", "ghost99")
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [
        ("username", "STAFF_ACCOUNT_NOT_FOUND")
    ]
    weak = await _admin(province, "resetStaffPassword", "reviewer1", password="abcdef")
    assert [(e["field"], e["code"]) for e in weak["errors"]] == [("password", "PASSWORD_WEAK")]
    nowhere = await _admin(province, "moveStaff", "reviewer1", departmentCode="110101")
    assert [e["code"] for e in nowhere["errors"]] == ["UNKNOWN_DEPARTMENT"]
    not_reviewer = await _admin(province, "moveStaff", "province1", departmentCode="330106")
    assert [e["code"] for e in not_reviewer["errors"]] == ["NOT_ALLOWED"]
    myself = await _admin(province, "deactivateStaff", "province1")
    assert [e["code"] for e in myself["errors"]] == ["NOT_ALLOWED"]
    login = await _login(api, "reviewer1")
    assert login["errors"] == [] and login["viewer"]["department"] == {"code": "330102"}


async def test_password_reset_ends_sessions_and_moving_takes_effect_on_the_next_request(
    api: Api,
) -> None:
    province = await _province(api)
    await _create(api, "reviewer1")
    old = api.as_user(str((await _login(api, "reviewer1"))["accessToken"]))
    moved = await _admin(province, "moveStaff", "reviewer1", departmentCode="330106")
    assert moved["account"]["department"] == {"code": "330106"}
    assert (await old.data(VIEWER))["viewer"]["department"] == {"code": "330106"}
    reset = await _admin(province, "resetStaffPassword", "reviewer1", password="fresh2026!")
    assert reset["errors"] == []
    assert (await old.data(VIEWER))["viewer"] is None
    assert [e["code"] for e in (await _login(api, "reviewer1"))["errors"]] == [
        "INVALID_CREDENTIALS"
    ]
    assert (await _login(api, "reviewer1", "fresh2026!"))["errors"] == []


async def test_unlock_ends_the_back_off(api: Api) -> None:
    province = await _province(api)
    await _create(api, "reviewer1")
    for _ in range(5):
        await _login(api, "reviewer1", "wrong123")
    assert [e["code"] for e in (await _login(api, "reviewer1"))["errors"]] == ["ACCOUNT_LOCKED"]
    assert (await _admin(province, "unlockStaff", "reviewer1"))["errors"] == []
    assert (await _login(api, "reviewer1"))["errors"] == []


async def test_staff_change_their_own_password(api: Api) -> None:
    await _create(api, "reviewer1")
    other_device = api.as_user(str((await _login(api, "reviewer1"))["accessToken"]))
    me = api.as_user(str((await _login(api, "reviewer1"))["accessToken"]))
    wrong = (await me.data(CHANGE, {"c": "nope1234", "n": "fresh2026!"}))["changeMyPassword"]
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [
        ("currentPassword", "INVALID_CREDENTIALS")
    ]
    weak = (await me.data(CHANGE, {"c": "secret12", "n": "short"}))["changeMyPassword"]
    assert [(e["field"], e["code"]) for e in weak["errors"]] == [("newPassword", "PASSWORD_WEAK")]
    same = (await me.data(CHANGE, {"c": "secret12", "n": "secret12"}))["changeMyPassword"]
    assert [e["code"] for e in same["errors"]] == ["NOT_ALLOWED"]
    done = (await me.data(CHANGE, {"c": "secret12", "n": "fresh2026!"}))["changeMyPassword"]
    assert done == {"ok": True, "errors": []}
    assert (await me.data(VIEWER))["viewer"]["username"] == "reviewer1"
    assert (await other_device.data(VIEWER))["viewer"] is None
    assert (await _login(api, "reviewer1", "fresh2026!"))["errors"] == []


def test_cli_administers_staff_accounts(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(migrate.upgrade(sqlite_url))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("STAFF_PASSWORD", "board2026!")
    assert cli.main(["create-staff", "rev01", "--role", "REVIEWER", "--department", "330102"]) == 0
    assert cli.main(["move-staff", "rev01", "--department", "330106"]) == 0
    assert "rev01 (REVIEWER, 330106, active)" in capsys.readouterr().out
    assert cli.main(["deactivate-staff", "rev01"]) == 0
    assert "inactive" in capsys.readouterr().out
    assert cli.main(["reactivate-staff", "rev01"]) == 0
    assert cli.main(["unlock-staff", "rev01"]) == 0
    monkeypatch.setenv("STAFF_PASSWORD", "weak")
    assert cli.main(["reset-staff-password", "rev01"]) == 2
    assert "PASSWORD_WEAK" in capsys.readouterr().err
    assert cli.main(["unlock-staff", "ghost99"]) == 2
    assert "STAFF_ACCOUNT_NOT_FOUND" in capsys.readouterr().err
