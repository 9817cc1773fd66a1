"""Sessions: devLogin, viewer, refresh (rotating), logout (revoking), bad and expired tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from sqlmodel import select

from models.accounts import RotatedRefreshToken
from models.db import transaction, utcnow
from services.tokens import issue_access_token
from tests.api import Api, running_api, settings_for

DEV_LOGIN = """
mutation($input: DevLoginInput!) {
  devLogin(input: $input) {
    accessToken refreshToken expiresAt
    viewer { kind name identityVerified maskedIdNumber maskedPhone role department { code name } }
    errors { field code message }
  }
}"""
VIEWER = "{ viewer { kind name role } }"
REFRESH = """mutation($t: String!) { refreshSession(refreshToken: $t) {
  accessToken refreshToken viewer { name } errors { field code message } } }"""

APPLICANT = {
    "name": "张三",
    "idType": "01",
    "idNumber": "330106199003071236",
    "phone": "13812345678",
}


async def dev_login(api: Api, **fields: object) -> dict[str, Any]:
    data = await api.data(DEV_LOGIN, {"input": fields})
    return data["devLogin"]


async def test_dev_login_signs_in_an_applicant_with_that_identity(api: Api) -> None:
    result = await dev_login(api, **APPLICANT)
    assert result["errors"] == []
    assert result["viewer"] == {
        "kind": "APPLICANT",
        "name": "张三",
        "identityVerified": True,
        "maskedIdNumber": "330106********1236",
        "maskedPhone": "138****5678",
        "role": None,
        "department": None,
    }
    viewer = await api.data(VIEWER, token=str(result["accessToken"]))
    assert viewer["viewer"]["name"] == "张三"


async def test_dev_login_signs_in_a_reviewer_of_a_department(api: Api) -> None:
    result = await dev_login(api, name="审核员甲", reviewerDepartmentCode="330102")
    assert result["viewer"]["kind"] == "STAFF"
    assert result["viewer"]["role"] == "REVIEWER"
    assert result["viewer"]["department"] == {"code": "330102", "name": "上城区财政局"}
    province = await dev_login(api, name="省厅", reviewerDepartmentCode="330000")
    assert province["viewer"]["role"] == "PROVINCE"


async def test_dev_login_rejects_bad_identities_with_field_errors(api: Api) -> None:
    result = await dev_login(
        api, name="张三", idType="01", idNumber="330106199003071235", phone="12345"
    )
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("idNumber", "ID_NUMBER_CHECKSUM"),
        ("phone", "PHONE_FORMAT"),
    }
    assert result["accessToken"] is None
    result = await dev_login(api, name=" ", idType="77", idNumber="X")
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("name", "REQUIRED"),
        ("idType", "UNKNOWN_CODE"),
    }
    result = await dev_login(api, name="x", reviewerDepartmentCode="110101")
    assert [e["code"] for e in result["errors"]] == ["UNKNOWN_DEPARTMENT"]


async def test_refresh_rotates_and_a_retry_within_30_seconds_gets_the_same_pair(api: Api) -> None:
    first = await dev_login(api, **APPLICANT)
    refreshed = (await api.data(REFRESH, {"t": first["refreshToken"]}))["refreshSession"]
    assert refreshed["errors"] == [] and refreshed["viewer"]["name"] == "张三"
    assert refreshed["refreshToken"] != first["refreshToken"]
    again = (await api.data(REFRESH, {"t": first["refreshToken"]}))["refreshSession"]
    assert again["errors"] == []
    assert (again["accessToken"], again["refreshToken"]) == (
        refreshed["accessToken"],
        refreshed["refreshToken"],
    )
    newer = (await api.data(REFRESH, {"t": refreshed["refreshToken"]}))["refreshSession"]
    assert newer["errors"] == [] and newer["refreshToken"] != refreshed["refreshToken"]
    garbage = (await api.data(REFRESH, {"t": "x" * 5000}))["refreshSession"]
    assert [e["code"] for e in garbage["errors"]] == ["REFRESH_TOKEN_INVALID"]


async def _age_rotations(api: Api, seconds: int) -> None:
    async with transaction(api.services.db) as db:
        for spent in (await db.exec(select(RotatedRefreshToken))).all():
            spent.rotated_at = spent.rotated_at - timedelta(seconds=seconds)
            db.add(spent)


async def test_a_replayed_refresh_token_ends_the_whole_session(api: Api) -> None:
    first = await dev_login(api, **APPLICANT)
    stolen = str(first["refreshToken"])
    legit = (await api.data(REFRESH, {"t": stolen}))["refreshSession"]
    await _age_rotations(api, 31)
    replay = (await api.data(REFRESH, {"t": stolen}))["refreshSession"]
    assert [e["code"] for e in replay["errors"]] == ["REFRESH_TOKEN_INVALID"]
    assert "重新登录" in replay["errors"][0]["message"] and replay["accessToken"] is None
    # the newest token of the family and its access token stop working too
    newest = (await api.data(REFRESH, {"t": legit["refreshToken"]}))["refreshSession"]
    assert [e["code"] for e in newest["errors"]] == ["REFRESH_TOKEN_INVALID"]
    assert (await api.data(VIEWER, token=str(legit["accessToken"])))["viewer"] is None
    # another session of the same person is a different family and keeps working
    other = await dev_login(api, **APPLICANT)
    assert (await api.data(VIEWER, token=str(other["accessToken"])))["viewer"]["name"] == "张三"


async def test_concurrent_refreshes_of_one_token_yield_one_pair(any_api: Api) -> None:
    first = await dev_login(any_api, **APPLICANT)
    answers = await asyncio.gather(
        *(any_api.data(REFRESH, {"t": first["refreshToken"]}) for _ in range(8))
    )
    pairs = {
        (a["refreshSession"]["accessToken"], a["refreshSession"]["refreshToken"]) for a in answers
    }
    assert all(a["refreshSession"]["errors"] == [] for a in answers)
    assert len(pairs) == 1 and None not in next(iter(pairs))
    async with any_api.services.db() as db:
        assert len((await db.exec(select(RotatedRefreshToken))).all()) == 1
    ((access, refresh),) = pairs
    assert (await any_api.data(VIEWER, token=access))["viewer"]["name"] == "张三"
    newer = (await any_api.data(REFRESH, {"t": refresh}))["refreshSession"]
    assert newer["errors"] == []


async def test_logout_revokes_the_session(api: Api) -> None:
    session = await dev_login(api, **APPLICANT)
    token = str(session["accessToken"])
    assert (await api.data("mutation { logout { ok } }", token=token))["logout"]["ok"] is True
    assert (await api.data(VIEWER, token=token))["viewer"] is None
    refused = await api.post("mutation { logout { ok } }", token=token)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    after = (await api.data(REFRESH, {"t": session["refreshToken"]}))["refreshSession"]
    assert [e["code"] for e in after["errors"]] == ["REFRESH_TOKEN_INVALID"]


async def test_expired_and_forged_tokens_are_not_sessions(api: Api) -> None:
    session = await dev_login(api, **APPLICANT)
    claims = jwt.decode(str(session["accessToken"]), options={"verify_signature": False})
    secret = api.services.session_config.secret
    expired = issue_access_token(
        secret, claims["sid"], utcnow() - timedelta(hours=1), timedelta(minutes=5)
    )
    forged = issue_access_token(
        "another-secret-of-sufficient-length!", claims["sid"], utcnow(), timedelta(minutes=5)
    )
    for token in (expired, forged, "not.a.jwt", "x" * 3000):
        assert (await api.data(VIEWER, token=token))["viewer"] is None
        refused = await api.post("mutation { logout { ok } }", token=token)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_dev_login_can_be_turned_off(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(settings_for(sqlite_url, tmp_path, dev_login_enabled=False)) as api:
        result = await dev_login(api, **APPLICANT)
        assert [e["code"] for e in result["errors"]] == ["DEV_LOGIN_DISABLED"]
        assert result["accessToken"] is None
