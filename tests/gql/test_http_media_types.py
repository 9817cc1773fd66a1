"""GraphQL over HTTP media types: ``application/graphql-response+json`` gets that media type and
HTTP 400 without ``data`` when the request fails before execution; ``application/json``
answers stay as they were (HTTP 200 with ``data: null``)."""

from __future__ import annotations

from typing import Any

import pytest

from gql.view import wants_graphql_response
from tests.api import Api

SPEC = "application/graphql-response+json"


async def post(api: Api, accept: str | None, body: dict[str, Any]) -> tuple[int, str, Any]:
    headers = {"accept": accept} if accept else {}
    response = await api.http.post("/graphql", json=body, headers=headers)
    return response.status_code, response.headers["content-type"], response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{"},  # syntax
        {"query": "{ noSuchField }"},  # validation
        {"query": "query($c: String!) { divisions(parentCode: $c) { code } }", "variables": {}},
    ],
)
async def test_failures_before_execution(api: Api, body: dict[str, Any]) -> None:
    status, media, answer = await post(api, SPEC, body)
    assert (status, media.split(";")[0]) == (400, SPEC)
    assert "data" not in answer and answer["errors"]
    # the same request accepting application/json: as before
    status, media, answer = await post(api, "application/json", body)
    assert (status, media) == (200, "application/json")
    assert answer["data"] is None and answer["errors"]


async def test_executed_requests_are_200_in_either_media_type(api: Api) -> None:
    query = {"query": "{ __typename formOptions { genders { code name } } }"}
    for accept, expected in (
        (SPEC, SPEC),
        ("application/json", "application/json"),
        (None, "application/json"),
        ("*/*", "application/json"),
    ):
        status, media, answer = await post(api, accept, query)
        assert (status, media.split(";")[0]) == (200, expected)
        assert answer["data"]["__typename"] == "Query"
    # not signed in is an execution error with data: still 200
    status, _, answer = await post(api, SPEC, {"query": "{ viewer { name } }"})
    assert status == 200 and "data" in answer
    # a malformed body is 400 in both
    response = await api.http.post(
        "/graphql", content=b'{"query', headers={"content-type": "application/json", "accept": SPEC}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(SPEC)


def test_accept_negotiation() -> None:
    assert wants_graphql_response(SPEC)
    assert wants_graphql_response(f"{SPEC}, application/json")
    assert wants_graphql_response(f"application/json;q=0.9, {SPEC}")
    assert not wants_graphql_response(f"application/json, {SPEC};q=0.9")
    assert not wants_graphql_response("application/json")
    assert not wants_graphql_response("*/*")
    assert not wants_graphql_response(None)
    assert not wants_graphql_response(f"{SPEC};q=0")
    assert not wants_graphql_response(f"{SPEC};q=bad")
