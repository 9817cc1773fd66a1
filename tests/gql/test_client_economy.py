"""The applicant's whole path the way the README recommends, counted: from sign-in to
SUBMITTED for a work-unit applicant with seven proofs, in few requests and few bytes, with
the full query text and every expectedVersion taken from a response (never guessed)."""

from __future__ import annotations

from typing import Any

import orjson

from tests.api import Api
from tests.uploads import file_for, post_file
from tests.wizard import BASIC, FULL_TIME, QUALIFICATION, RESIDENT, WORK_UNIT

OPTIONS = """query Options {
  formOptions {
    countriesOrRegions { code name } ethnicGroups { code name } politicalStatuses { code name }
    genders { code name } economicTypes { code name } accountingPosts { code name }
    administrativeTitles { code name } educationLevels { code name } degrees { code name }
    qualificationLevels { code name } qualificationTypes { code name }
    acquisitionMethods { code name } appointedPosts { code name }
  }
  divisions { code name }
}"""
COUNTIES = """query Counties($city: String!) {
  divisions(parentCode: $city) { code name postalCode }
}"""
SIGN_IN = """mutation SignIn($input: DevLoginInput!) {
  devLogin(input: $input) { accessToken refreshToken errors { field code message } }
}"""
START = """mutation Start {
  startRegistration { registration { id version } errors { field code message } }
}"""
SAVE_FORM = """mutation SaveForm($input: SaveRegistrationInput!) {
  saveRegistration(input: $input) {
    registration { version requiredAttachments { kind satisfied } }
    errors { field code message }
  }
}"""
TICKET = """  %s: requestAttachmentUpload(input: {registrationId: $id, kind: %s, contentType: "image/jpeg", byteSize: %d}) {
    upload { id url fields { name value } } errors { field code message }
  }"""
CONFIRM = """  %s: confirmAttachmentUpload(input: {uploadId: "%s"}) {
    registration { version } errors { field code message }
  }"""
SUBMIT = """mutation Submit($input: SubmitRegistrationInput!) {
  submitRegistration(input: $input) { registration { status version } errors { field code message } }
}"""


class CountingClient:
    """Counts requests to the service and the bytes of their bodies (request and response)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.token: str | None = None
        self.requests = 0
        self.bytes = 0

    async def send(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = orjson.dumps({"query": query, "variables": variables or {}})
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self.api.http.post("/graphql", content=body, headers=headers)
        self.requests += 1
        self.bytes += len(body) + len(response.content)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]  # type: ignore[no-any-return]


def no_errors(payloads: dict[str, Any]) -> None:
    for name, payload in payloads.items():
        assert payload["errors"] == [], (name, payload["errors"])


async def test_work_unit_applicant_from_sign_in_to_submitted_in_few_requests(api: Api) -> None:
    client = CountingClient(api)
    # the code lists and the cities, then the counties of the city picked (a client may cache
    # them; counted here as on a first start)
    options = await client.send(OPTIONS)
    assert options["formOptions"]["countriesOrRegions"][0]["code"] == "CHN"
    city = WORK_UNIT["officeDivisionCode"][:4] + "00"
    assert city in [d["code"] for d in options["divisions"]]
    counties = (await client.send(COUNTIES, {"city": city}))["divisions"]
    assert WORK_UNIT["officeDivisionCode"] in [d["code"] for d in counties]
    reference_bytes = client.bytes

    signed_in = (await client.send(SIGN_IN, {"input": RESIDENT}))["devLogin"]
    no_errors({"devLogin": signed_in})
    client.token = signed_in["accessToken"]

    started = (await client.send(START))["startRegistration"]
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
    saved = (await client.send(SAVE_FORM, {"input": form}))["saveRegistration"]
    no_errors({"saveRegistration": saved})
    kinds = [item["kind"] for item in saved["registration"]["requiredAttachments"]]
    assert len(kinds) == 7, kinds

    # every ticket in one request, one alias per proof
    files = {kind: file_for(kind) for kind in kinds}
    tickets_doc = (
        "mutation Tickets($id: ID!) {\n"
        + "\n".join(TICKET % (kind.lower(), kind, len(files[kind])) for kind in kinds)
        + "\n}"
    )
    tickets = await client.send(tickets_doc, {"id": registration["id"]})
    no_errors(tickets)
    for kind in kinds:  # straight to storage, as my.uploadFile does: not GraphQL traffic
        response = await post_file(api, tickets[kind.lower()]["upload"], files[kind])
        assert response.status_code in (200, 201, 204), response.text

    # every confirmation in one request; they run in order, the last answer has the version
    confirm_doc = (
        "mutation Confirm {\n"
        + "\n".join(
            CONFIRM % (kind.lower(), tickets[kind.lower()]["upload"]["id"]) for kind in kinds
        )
        + "\n}"
    )
    confirmed = await client.send(confirm_doc)
    no_errors(confirmed)
    versions = [confirmed[kind.lower()]["registration"]["version"] for kind in kinds]
    first = saved["registration"]["version"]
    assert versions == list(range(first + 1, first + 8))  # exactly one per confirmed upload

    submitted = (
        await client.send(
            SUBMIT,
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

    print(
        f"\napplicant path: {client.requests} requests, {client.bytes} bytes of GraphQL traffic "
        f"({reference_bytes} of them code lists and divisions)"
    )
    assert client.requests <= 14
    assert client.bytes <= 40 * 1024
