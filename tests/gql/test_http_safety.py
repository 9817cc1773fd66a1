"""Bad requests get a clear answer with the right HTTP or GraphQL shape, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.api import Api, running_api, settings_for


async def _raw(api: Api, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:  # type: ignore[type-arg]
    response = await api.http.post("/graphql", content=body, headers={"content-type": content_type})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[1, 2]",
        b'"a string"',
        b"42",
        b'{"query": 5}',
        b'{"query": "{ viewer { kind } }", "variables": [1]}',
        b"\xff\xfe\x00garbage",
    ],
)
async def test_malformed_bodies_are_400_with_a_json_error(api: Api, body: bytes) -> None:
    status, payload = await _raw(api, body)
    assert status == 400
    assert payload["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_wrong_content_type_is_refused(api: Api) -> None:
    status, payload = await _raw(api, b"{ viewer { kind } }", "text/plain")
    assert status == 400 and payload["errors"][0]["message"]


async def test_oversized_body_is_413_without_reading_it_all(api: Api) -> None:
    big = b'{"query": "' + b" " * 2_000_000 + b'{ viewer { kind } }"}'
    status, payload = await _raw(api, big)
    assert status == 413
    assert payload["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_get_queries_are_not_allowed(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": "{ viewer { kind } }"})
    assert response.status_code in (400, 405)


async def test_query_depth_tokens_and_aliases_are_limited(api: Api) -> None:
    deep = "{ viewer " + "{ department " * 20 + "{ code }" + " }" * 20 + " }"
    body = await api.post(deep)
    assert body["errors"] and "exceeds maximum operation depth" in body["errors"][0]["message"]

    aliases = "{ " + " ".join(f"a{i}: viewer {{ kind }}" for i in range(40)) + " }"
    body = await api.post(aliases)
    assert body["errors"] and "aliases" in body["errors"][0]["message"].lower()

    tokens = "{ " + "viewer { kind } " * 800 + "}"
    body = await api.post(tokens)
    assert body["errors"] and "token" in body["errors"][0]["message"].lower()


async def test_unknown_fields_are_graphql_validation_errors(api: Api) -> None:
    body = await api.post("{ nothingHere }")
    assert body["data"] is None
    assert "Cannot query field" in body["errors"][0]["message"]


async def test_health_and_readiness(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}  # the test client is a remote address


async def _readyz(app: object, client_host: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(client_host, 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get("/readyz")


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    settings = settings_for(url, tmp_path)
    from server.app import create_app
    from services.container import Services

    services = Services.build(settings)
    app = create_app(settings, services)
    local = await _readyz(app, "127.0.0.1")
    remote = await _readyz(app, "203.0.113.7")
    forwarded = await _readyz(app, "::1")
    await services.close()
    assert local.status_code == remote.status_code == 503
    assert local.json()["checks"]["database"] is False  # details for the machine itself
    assert forwarded.json()["checks"]["database"] is False
    assert remote.json() == {"status": "unavailable"}  # anyone else: not what is down


async def test_graphql_answers_are_never_cached(api: Api) -> None:
    for response in (
        await api.http.post("/graphql", json={"query": "{ viewer { kind } }"}),
        await api.http.post("/graphql", content=b"{not json"),
        await api.http.post("/graphql", json={"query": "{ nothing }"}),
    ):
        assert response.headers["cache-control"] == "no-store"


@pytest.fixture
async def production_api(postgres_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for(
        postgres_url,
        tmp_path,
        app_env="production",
        dev_login_enabled=False,
        secret_key="k" * 40,
        person_key_secret="p" * 40,
    )
    async with running_api(settings) as api:
        yield api


def operation(name: str) -> str:
    """The exact text of a trusted document (operations/<name>.graphql)."""
    from gql.trusted_documents import OPERATIONS_DIR

    return (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


async def test_production_turns_off_introspection_graphiql_and_dev_login(
    production_api: Api,
) -> None:
    for untrusted in (
        "{ __schema { types { name } } }",
        'mutation { devLogin(input: {name: "x", idNumber: "330106199003071236"}) { accessToken } }',
    ):
        body = await production_api.post(untrusted)
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_DOCUMENT_NOT_FOUND"
    ide = await production_api.http.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code in (404, 405) or "graphiql" not in ide.text.lower()
    # Under the trusted-document gate, the schema itself refuses introspection
    from gql.schema import build_schema

    result = await build_schema(production=True).execute("{ __schema { types { name } } }")
    assert result.errors and "introspection" in result.errors[0].message.lower()


async def test_graphiql_is_served_in_development(api: Api) -> None:
    page = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_production_masks_faults_but_keeps_coded_errors(
    production_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gql.registration import queries
    from models.accounts import StaffRole
    from models.db import transaction
    from services.staff import create_staff_account

    async with transaction(production_api.services.db) as db:
        await create_staff_account(
            db,
            production_api.services.reference,
            username="board01",
            password="board2026!",
            role=StaffRole.DASHBOARD,
            department_code=None,
        )
    login = await production_api.data(
        operation("StaffLogin"), {"input": {"username": "board01", "password": "board2026!"}}
    )
    staff = production_api.as_user(login["staffLogin"]["accessToken"])

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("connection to 10.0.0.5 failed: password=hunter2")

    monkeypatch.setattr(queries, "lookup_unit", broken)
    body = await staff.post(operation("LookupUnit"), {"creditCode": "91330106MA27UW5H9N"})
    assert body["errors"][0]["message"] == "服务内部错误，请稍后再试。"
    assert "hunter2" not in str(body) and "Traceback" not in str(body)
    refused = await staff.post(operation("MyRegistration"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["errors"][0]["message"] == "仅申请人可以执行此操作。"


NUL_PROBES = [
    (
        "applicant",
        "mutation($v: ID!) { saveBasicInfo(input: {registrationId: $v, expectedVersion: 1}) { errors { code } } }",
    ),
    (
        "applicant",
        "mutation($v: ID!) { confirmAttachmentUpload(input: {uploadId: $v}) { errors { code } } }",
    ),
    ("applicant", "query($v: ID!) { registration(id: $v) { id } }"),
    (
        "applicant",
        "query($v: ID!) { proofTemplate(registrationId: $v, kind: FIRST_EMPLOYER_PROOF) { errors { code } } }",
    ),
    ("applicant", "query($v: String!) { lookupUnit(creditCode: $v) { errors { code } } }"),
    (
        "reviewer",
        "mutation($v: ID!) { approveRegistration(input: {registrationId: $v, expectedVersion: 1}) { errors { code } } }",
    ),
    ("reviewer", "query($v: String!) { registrations(filter: {name: $v}) { errors { code } } }"),
    (
        "reviewer",
        "query($v: String!) { registrationStats(filter: {departmentCode: $v}) { errors { code } } }",
    ),
    (
        "reviewer",
        "query($v: String!) { registrationExport(departmentCode: $v) { errors { code } } }",
    ),
    (
        "anonymous",
        "mutation($v: String!) { staffLogin(input: {username: $v, password: $v}) { errors { code } } }",
    ),
    ("anonymous", "mutation($v: String!) { refreshSession(refreshToken: $v) { errors { code } } }"),
]


async def test_nul_bytes_never_reach_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text with an error: every input must be refused before."""
    from tests.wizard import sign_in

    async with running_api(settings_for(postgres_url, tmp_path)) as api:
        callers = {"anonymous": api, "applicant": await sign_in(api)}
        login = await api.data(
            'mutation { devLogin(input: {name: "r", reviewerDepartmentCode: "330102"}) { accessToken } }'
        )
        callers["reviewer"] = api.as_user(login["devLogin"]["accessToken"])
        for role, document in NUL_PROBES:
            for value in ("\x00", "0" * 31 + "\x00", "330102\x00"):
                body = await callers[role].post(document, {"v": value})
                assert not body.get("errors"), (document, body.get("errors"))
