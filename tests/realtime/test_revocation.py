"""A revoked session's sockets close with 4401 on every worker within a second: two real
uvicorn workers (``python -m server.serve``) sharing PostgreSQL and a private Redis; the
revocation travels over the broker (services.revocations)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from gql.sockets import SESSION_REVOKED
from models.accounts import AuthSession, RotatedRefreshToken, StaffAccount
from models.db import transaction
from services.tokens import read_access_claims
from tests.realtime import QUEUE_EVENTS, REGISTRATION_EVENTS, ROOT, Cluster, close_code, graphql_ws
from tests.review import reviewer
from tests.wizard import sign_in, submitted_registration

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LOGOUT = "mutation { logout { ok } }"
BINJIANG = "330108"
ZHAO = {"name": "赵六", "idType": "01", "idNumber": "330106198808081234", "phone": "13600004444"}
SUN = {"name": "孙七", "idType": "01", "idNumber": "330106197705122342", "phone": "13600005555"}


async def test_logout_on_one_worker_closes_the_socket_on_the_other_within_a_second(
    workers: Cluster,
) -> None:
    # people of their own: the cluster (and its database) is shared with other suites
    applicant = await sign_in(workers.api(0), ZHAO)
    registration = await submitted_registration(applicant)
    same_person_other_phone = await sign_in(workers.api(0), ZHAO)  # a second session
    async with (
        graphql_ws(workers.workers[1].base_url) as doomed,
        graphql_ws(workers.workers[1].base_url) as other,
    ):
        await doomed.init(applicant.token)
        await other.init(same_person_other_phone.token)
        for client in (doomed, other):
            await client.subscribe("1", REGISTRATION_EVENTS, {"id": registration["id"]})
            assert (await client.next("1"))["registrationEvents"]["kind"] == "STARTED"

        began = time.monotonic()
        assert (await applicant.data(LOGOUT))["logout"]["ok"] is True
        assert await close_code(doomed.ws, within=1.0) == (4401, SESSION_REVOKED)
        assert time.monotonic() - began < 1.0
        # the other session's socket is untouched
        await other.ping()
    # workers start (python -m server.serve, websockets-sansio) without any warning
    for worker in workers.workers:
        assert "Warning" not in worker.output()
    # and the revoked token cannot open a new socket
    async with graphql_ws(workers.workers[0].base_url) as again:
        await again.ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {applicant.token}"}}
        )
        assert await close_code(again.ws) == (4401, SESSION_REVOKED)


REFRESH = """mutation($t: String!) { refreshSession(refreshToken: $t) {
  accessToken refreshToken errors { code } } }"""
DEV_LOGIN = """mutation($i: DevLoginInput!) { devLogin(input: $i) {
  accessToken refreshToken errors { code } } }"""


async def test_refresh_token_reuse_closes_the_sessions_sockets(workers: Cluster) -> None:
    api = workers.api(0)
    first = (await api.data(DEV_LOGIN, {"i": SUN}))["devLogin"]
    assert first["errors"] == []
    rotated = (await api.data(REFRESH, {"t": first["refreshToken"]}))["refreshSession"]
    assert rotated["errors"] == []
    async with graphql_ws(workers.workers[1].base_url) as client:
        await client.init(rotated["accessToken"])
        await client.ping()
        # within 30 seconds the same token is a retry; later it is a stolen copy
        async with transaction(workers.local.db) as db:
            for spent in (await db.exec(select(RotatedRefreshToken))).all():
                spent.rotated_at -= timedelta(seconds=31)
                db.add(spent)
        reused = (await api.data(REFRESH, {"t": first["refreshToken"]}))["refreshSession"]
        assert [e["code"] for e in reused["errors"]] == ["REFRESH_TOKEN_INVALID"]
        assert await close_code(client.ws, within=1.0) == (4401, SESSION_REVOKED)


async def test_deactivating_a_staff_account_closes_its_sockets(workers: Cluster) -> None:
    # 滨江: a department no other suite of this shared cluster signs in to
    staff = await reviewer(workers.api(0), BINJIANG, name="将停用")
    assert staff.token is not None
    session_id = read_access_claims(workers.local.session_config.secret, staff.token).session_id
    async with workers.local.db() as db:
        session = await db.get(AuthSession, session_id)
        assert session is not None and session.staff_account_id is not None
        account = (
            await db.exec(select(StaffAccount).where(StaffAccount.id == session.staff_account_id))
        ).one()
    async with graphql_ws(workers.workers[1].base_url) as client:
        await client.init(staff.token)
        await client.subscribe("q", QUEUE_EVENTS, {})
        await client.ping()
        command = [sys.executable, "-m", "server.cli", "deactivate-staff", account.username]
        done = await asyncio.to_thread(
            subprocess.run, command, cwd=ROOT, env=workers.env(), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert "ended 1 session(s)" in done.stdout
        assert await close_code(client.ws, within=2.0) == (4401, SESSION_REVOKED)
