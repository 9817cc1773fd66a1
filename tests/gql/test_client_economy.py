"""The applicant's whole path the way the README recommends, counted: from sign-in to
SUBMITTED for a work-unit applicant with seven proofs, in few requests and few bytes, every
expectedVersion taken from a response (never guessed). The path uses only the trusted
documents of operations/, run twice: once sending their full text, once only their ids
(``{"documentId": "sha256:…", "variables": …}``, what production clients send)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from gql.trusted_documents import OPERATIONS_DIR, document_id
from tests.api import Api, running_api, settings_for
from tests.databases import migrated_sqlite_url
from tests.uploads import file_for, post_file
from tests.wizard import BASIC, FULL_TIME, QUALIFICATION, RESIDENT, WORK_UNIT


def camel(kind: str) -> str:
    """ID_PHOTO -> idPhoto: the alias (and variable stem) of a kind in the batch documents."""
    first, *rest = kind.lower().split("_")
    return first + "".join(part.title() for part in rest)


class CountingClient:
    """Counts requests to the service and the bytes of their bodies (request and response).
    Sends an operation of operations/ by its text or, with ``by_id``, by its id alone."""

    def __init__(self, api: Api, *, by_id: bool) -> None:
        self.api = api
        self.by_id = by_id
        self.token: str | None = None
        self.requests = 0
        self.bytes = 0

    async def send(self, operation: str, variables: dict[str, Any] | None = None) -> Any:
        text = (OPERATIONS_DIR / f"{operation}.graphql").read_bytes().decode("utf-8")
        request: dict[str, Any] = (
            {"documentId": document_id(text)} if self.by_id else {"query": text}
        )
        request["variables"] = variables or {}
        body = orjson.dumps(request)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self.api.http.post("/graphql", content=body, headers=headers)
        self.requests += 1
        self.bytes += len(body) + len(response.content)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]


def no_errors(payloads: dict[str, Any]) -> None:
    for name, payload in payloads.items():
        assert payload["errors"] == [], (name, payload["errors"])


async def applicant_path(client: CountingClient) -> int:
    """Sign-in to SUBMITTED; returns the bytes spent on code lists and divisions."""
    # the code lists and the cities, then the counties of the city picked (a client may cache
    # them; counted here as on a first start)
    options = (await client.send("FormOptions"))["formOptions"]
    assert options["countriesOrRegions"][0]["code"] == "CHN"
    city = WORK_UNIT["officeDivisionCode"][:4] + "00"
    cities = (await client.send("Divisions"))["divisions"]
    assert city in [d["code"] for d in cities]
    counties = (await client.send("Divisions", {"parentCode": city}))["divisions"]
    assert WORK_UNIT["officeDivisionCode"] in [d["code"] for d in counties]
    reference_bytes = client.bytes

    # development sign-in (production signs in with loginWithAlipay / loginWithZlb instead)
    signed_in = (await client.send("ConsoleDevLogin", {"input": RESIDENT}))["devLogin"]
    no_errors({"devLogin": signed_in})
    client.token = signed_in["accessToken"]

    started = (await client.send("StartRegistration"))["startRegistration"]
    registration = started["registration"]

    form = {
        "registrationId": registration["id"],
        "expectedVersion": registration["version"],
        "notice": {"eligibility": ["WORK_UNIT", "HOUSEHOLD"]},
        "basicInfo": BASIC,
        "workOrResidence": {"workUnit": WORK_UNIT},
        "education": {"fullTime": FULL_TIME},
        "qualification": {"qualification": QUALIFICATION},
    }
    saved = (await client.send("SaveRegistration", {"input": form}))["saveRegistration"]
    no_errors({"saveRegistration": saved})
    kinds = [item["kind"] for item in saved["registration"]["requiredAttachments"]]
    assert len(kinds) == 7, kinds

    # every ticket in one request: the document has one alias per kind, included by variables
    files = {kind: file_for(kind) for kind in kinds}
    wanted: dict[str, Any] = {"registrationId": registration["id"]}
    for kind in kinds:
        wanted[f"{camel(kind)}Bytes"] = len(files[kind])
        wanted[f"with{camel(kind)[0].upper()}{camel(kind)[1:]}"] = True
    tickets = await client.send("RequestAttachmentUploads", wanted)
    assert sorted(tickets) == sorted(camel(kind) for kind in kinds)  # only those asked for
    no_errors(tickets)
    for kind in kinds:  # straight to storage, as my.uploadFile does: not GraphQL traffic
        response = await post_file(client.api, tickets[camel(kind)]["upload"], files[kind])
        assert response.status_code in (200, 201, 204), response.text

    # every confirmation in one request; they run in the document's order, so the highest
    # version is the last one's
    confirm: dict[str, Any] = {}
    for kind in kinds:
        confirm[camel(kind)] = tickets[camel(kind)]["upload"]["id"]
        confirm[f"with{camel(kind)[0].upper()}{camel(kind)[1:]}"] = True
    confirmed = await client.send("ConfirmAttachmentUploads", confirm)
    no_errors(confirmed)
    versions = sorted(confirmed[camel(kind)]["registration"]["version"] for kind in kinds)
    first = saved["registration"]["version"]
    assert versions == list(range(first + 1, first + 8))  # exactly one per confirmed upload

    submitted = (
        await client.send(
            "SubmitRegistration",
            {
                "input": {
                    "registrationId": registration["id"],
                    "expectedVersion": versions[-1],
                    "agreed": True,
                    "idempotencyKey": "economy-test-submit-1",
                }
            },
        )
    )["submitRegistration"]
    no_errors({"submitRegistration": submitted})
    assert submitted["registration"]["status"] == "SUBMITTED"
    return reference_bytes


async def test_work_unit_applicant_from_sign_in_to_submitted_in_few_requests(
    tmp_path: Path,
) -> None:
    figures = {}
    for mode, by_id in (("full text", False), ("document ids", True)):
        folder = tmp_path / ("ids" if by_id else "text")
        url = await migrated_sqlite_url(folder / "registration.db")
        async with running_api(settings_for(url, folder)) as api:
            client = CountingClient(api, by_id=by_id)
            reference_bytes = await applicant_path(client)
            figures[mode] = (client.requests, client.bytes, reference_bytes)
            # not counted: the polling fallback and the approved record run by id as well
            polled = (await client.send("RegistrationHistory"))["myRegistration"]
            assert polled["status"] == "SUBMITTED"
            assert polled["history"][-1]["status"] == "SUBMITTED"
            later = await client.send(
                "RegistrationHistory", {"after": polled["history"][-1]["cursor"]}
            )
            assert later["myRegistration"]["history"] == []  # nothing new since that cursor
            assert (await client.send("MyApprovedRegistration")) == {"myApprovedRegistration": None}
    for mode, (requests, size, reference) in figures.items():
        print(
            f"\napplicant path, {mode}: {requests} requests, {size} bytes of GraphQL traffic "
            f"({reference} of them code lists and divisions)"
        )
    for requests, size, _ in figures.values():
        assert requests <= 14
        assert size <= 40 * 1024
    assert figures["document ids"][1] < figures["full text"][1]
