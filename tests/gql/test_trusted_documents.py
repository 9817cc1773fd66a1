"""Production executes only the operations kept in operations/; development runs anything."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, specified_rules, validate

from gql.document_cost import Limits, check
from gql.schema import build_schema
from gql.trusted_documents import MANIFEST, OPERATIONS_DIR, document_id
from tests.api import Api, running_api, settings_for
from tests.databases import migrated_postgres_database
from tests.realtime import graphql_ws, live_server
from tests.services import require_postgres
from tools import operations_manifest

VIEWER = (OPERATIONS_DIR / "Viewer.graphql").read_text(encoding="utf-8")
VIEWER_ID = document_id(VIEWER)
NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"


def production_settings(url: str, tmp_path: Path) -> object:
    return settings_for(
        url,
        tmp_path,
        app_env="production",
        dev_login_enabled=False,
        secret_key="k" * 40,
        person_key_secret="p" * 40,
    )


@pytest.fixture(scope="module")
async def production_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """One production app for the module (the requests here change nothing)."""
    async with migrated_postgres_database(require_postgres()) as url:
        settings = production_settings(url, tmp_path_factory.mktemp("production"))
        async with running_api(settings) as api:  # type: ignore[arg-type]
            yield api


def test_the_manifest_is_current() -> None:
    documents = operations_manifest.build()
    assert MANIFEST.read_text(encoding="utf-8") == operations_manifest.render(documents), (
        "operations/manifest.json is stale: run `make operations`"
    )
    for path in OPERATIONS_DIR.glob("*.graphql"):
        assert document_id(path.read_bytes().decode("utf-8")) in documents
        assert document_id(path.read_text(encoding="utf-8")) == (
            "sha256:" + __import__("hashlib").sha256(path.read_bytes()).hexdigest()
        )


def test_every_trusted_document_is_one_named_valid_affordable_operation() -> None:
    schema = build_schema(production=True)._schema
    documents = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert len(documents) >= 25
    names = set()
    for text in documents.values():
        document = parse(text)
        assert len(document.definitions) == 1
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode) and operation.name
        names.add(operation.name.value)
        assert validate(schema, document, specified_rules) == [], operation.name.value
        assert check(document, Limits(), schema, {"first": 100}) is None, operation.name.value
    expected = {
        "Viewer", "FormOptions", "Divisions", "LookupUnit", "ProofTemplate", "StaffLogin",
        "RefreshSession", "Logout", "ReviewQueue", "RegistrationDetail", "ApproveRegistration",
        "ReturnRegistration", "ReturnReasons", "RegistrationStats", "RegistrationEvents",
        "ReviewQueueEvents", "MyRegistration", "StartRegistration", "SubmitRegistration",
        "RequestAttachmentUpload", "ConfirmAttachmentUpload", "SaveRegistration",
        "MyApprovedRegistration", "RegistrationHistory", "ForwardRegistration",
        "ReopenRegistration", "DeactivateStaff", "ReactivateStaff", "ResetStaffPassword",
        "MoveStaff", "UnlockStaff", "ChangeMyPassword", "RequestAttachmentUploads",
        "ConfirmAttachmentUploads",
    }  # fmt: skip
    assert expected <= names
    for path in OPERATIONS_DIR.glob("*.graphql"):
        assert path.stem in names  # the file is named after its operation


async def _post(api: Api, body: dict[str, object]) -> dict[str, object]:
    response = await api.http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()  # type: ignore[no-any-return]


def _code(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    return str(errors[0]["extensions"]["code"])


async def test_production_runs_trusted_documents_by_id_or_exact_text(
    production_api: Api,
) -> None:
    bodies: list[dict[str, object]] = [
        {"documentId": VIEWER_ID},
        {"documentId": VIEWER_ID, "operationName": "Viewer", "variables": {}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": VIEWER_ID[7:]}}},
        {"query": VIEWER},
        {"query": VIEWER, "documentId": VIEWER_ID},
    ]
    for body in bodies:
        assert await _post(production_api, body) == {"data": {"viewer": None}}, body


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ viewer { kind } }"},
        {"query": VIEWER + " "},  # not the exact text
        {"query": "{{{{ this is not even GraphQL"},  # refused before parsing: no syntax error
        {"query": "{ __schema { types { name } } }"},
        {"documentId": "sha256:" + "0" * 64},
        {"documentId": 42},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}},
        # Apollo's automatic registration: a new text with its hash is not stored
        {
            "query": "{ formOptions { genders { code } } }",
            "extensions": {
                "persistedQuery": {
                    "version": 1,
                    "sha256Hash": document_id("{ formOptions { genders { code } } }")[7:],
                }
            },
        },
        {"query": "{ viewer { kind } }", "documentId": VIEWER_ID},  # text and id disagree
    ],
)
async def test_production_refuses_everything_else(
    production_api: Api, body: dict[str, object]
) -> None:
    answer = await _post(production_api, body)
    assert _code(answer) == NOT_FOUND
    assert "data" not in answer


async def test_registration_at_run_time_does_not_stick(production_api: Api) -> None:
    text = "{ returnReasons { code } }"
    hashed = {"persistedQuery": {"version": 1, "sha256Hash": document_id(text)[7:]}}
    assert _code(await _post(production_api, {"query": text, "extensions": hashed})) == NOT_FOUND
    assert _code(await _post(production_api, {"extensions": hashed})) == NOT_FOUND


async def test_production_hides_field_suggestions(production_api: Api) -> None:
    # A trusted document is valid, so suggestions could only come from execution (variables)
    body = await _post(
        production_api,
        {
            "documentId": document_id(
                (OPERATIONS_DIR / "ProofTemplate.graphql").read_text(encoding="utf-8")
            ),
            "variables": {"registrationId": "1", "kind": "ID_PHOT"},
        },
    )
    assert body["errors"]
    assert "Did you mean" not in json.dumps(body, ensure_ascii=False)


async def test_development_runs_any_document_and_ids_too(api: Api) -> None:
    assert await _post(api, {"query": "{ viewer { kind } }"}) == {"data": {"viewer": None}}
    assert await _post(api, {"documentId": VIEWER_ID}) == {"data": {"viewer": None}}
    assert _code(await _post(api, {"documentId": "sha256:" + "1" * 64})) == NOT_FOUND
    body = await _post(api, {"query": "{ registratio { id } }"})
    assert "Did you mean" in json.dumps(body)  # development keeps the suggestions
    body = await _post(
        api,
        {
            "query": (OPERATIONS_DIR / "ProofTemplate.graphql").read_text(encoding="utf-8"),
            "variables": {"registrationId": "1", "kind": "ID_PHOT"},
        },
    )
    # a bad variable gets the Chinese BAD_USER_INPUT message that lists every allowed value
    message = json.dumps(body, ensure_ascii=False)
    assert "可选值：ID_PHOTO、" in message, message


async def test_sockets_subscribe_by_document_id_in_production(
    postgres_url: str, tmp_path: Path
) -> None:
    from models.accounts import StaffRole
    from models.db import transaction
    from services.staff import create_staff_account

    settings = production_settings(postgres_url, tmp_path)
    async with live_server(settings) as server:  # type: ignore[arg-type]
        async with transaction(server.api.services.db) as db:
            await create_staff_account(
                db,
                server.api.services.reference,
                username="board02",
                password="board2026!",
                role=StaffRole.DASHBOARD,
                department_code=None,
            )
        staff_login = (OPERATIONS_DIR / "StaffLogin.graphql").read_text(encoding="utf-8")
        login = await server.api.http.post(
            "/graphql",
            json={
                "documentId": document_id(staff_login),
                "variables": {"input": {"username": "board02", "password": "board2026!"}},
            },
        )
        token = login.json()["data"]["staffLogin"]["accessToken"]
        async with graphql_ws(server.base_url) as ws:
            await ws.init(token)  # a socket needs a signed-in user
            await _sockets_by_document_id(ws)


async def _sockets_by_document_id(ws: Any) -> None:
    await ws.ws.send_json(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": "", "extensions": {"documentId": VIEWER_ID}},
        }
    )
    assert (await ws.next("1"))["viewer"]["username"] == "board02"
    await ws.subscribe("2", VIEWER, {})
    assert (await ws.next("2"))["viewer"]["username"] == "board02"
    await ws.subscribe("3", "subscription { reviewQueueEvents { cursor } }", {})
    refused = await ws.message("3")
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == NOT_FOUND
    await ws.ws.send_json(
        {
            "id": "4",
            "type": "subscribe",
            "payload": {"query": "", "extensions": {"documentId": "sha256:" + "2" * 64}},
        }
    )
    assert (await ws.message("4"))["payload"][0]["extensions"]["code"] == NOT_FOUND
    await ws.ping()  # the socket stays open
