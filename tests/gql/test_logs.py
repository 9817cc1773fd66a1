"""Logs name the operation and its document id; never its text, its variables or a person."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from config.logs import configure_logging, scrub
from tests.api import Api

# The literals of the leaking request, as a person would type them.
LITERALS = {
    "spaced ID number": "330106 19900307 1236",
    "hyphenated ID number": "330106-1990-0307-1236",
    "ID number": "33010619900307123X",
    "hyphenated phone": "138-1234-5678",
    "spaced phone with +86": "+86 138 1234 5678",
    "phone": "13912345678",
    "passport": "E12345678",
    "passport (two letters)": "EA1234567",
    "往来港澳通行证": "C12345678",
    "回乡证": "H1234567890",
    "台胞证": "87654321",
}
# What must not survive of them, whatever the separators.
CORES = ["19900307", "1990-0307", "1234-5678", "1234 5678", "12345678", "1234567", "87654321"]


@pytest.mark.parametrize("kind", LITERALS)
def test_the_scrubber_masks_every_kind_of_number(kind: str) -> None:
    text = f"failed for {LITERALS[kind]}, retrying"
    scrubbed = scrub(text)
    assert LITERALS[kind] not in scrubbed
    assert not any(core in scrubbed for core in CORES)
    assert scrubbed.startswith("failed for ") and scrubbed.endswith(", retrying")


@pytest.mark.parametrize(
    "harmless",
    [
        "registration 12 version 3 took 12.5 ms",
        "2026-12-01T21:00:00Z department 330102",
        "code ID_NUMBER_FORMAT template SMS_900001 credit code 91330106MA27UW5H9N",
        "document sha256:154dbfa6848277579b9c3d786cb05f6bea9e08e1a7276370dd3acbe17e2d187c",
    ],
)
def test_the_scrubber_leaves_ordinary_log_fields_alone(harmless: str) -> None:
    assert scrub(harmless) == harmless


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The service's JSON logging, written to a buffer for the test."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("json", "INFO")
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        structlog.reset_defaults()


# 957 bytes, as in the issue: an invalid document full of personal literals.
LEAKING = (
    "mutation Leak {\n"
    '  devLogin(input: {name: "张三 E12345678", idNumber: "330106 19900307 1236", '
    'phone: "138-1234-5678", idType: "01", passport: "EA1234567"}) { accessToken }\n'
    '  a: devLogin(input: {name: "李四 C12345678", idNumber: "330106-1990-0307-1236", '
    'phone: "+86 138 1234 5678", hk: "H1234567890"}) { accessToken refreshTokn }\n'
    '  registration(id: "33010619900307123X") { id basicInfo { idNumbr phone } }\n'
    "  lookupUnit(creditCode: 13912345678) { outcome }\n"
    "  divisions(parentCode: 87654321) { code nme }\n"
    "}\n"
)
LEAKING = LEAKING + "#" + " " * (957 - len(LEAKING.encode()) - 2) + "\n"


async def test_a_failing_query_with_literals_leaves_a_short_clean_log(
    api: Api, json_log: io.StringIO
) -> None:
    assert len(LEAKING.encode()) == 957
    body = await api.post(LEAKING)
    assert body["errors"]
    body = await api.post(
        "query Coerce($id: ID!, $kind: AttachmentKind!) "
        "{ proofTemplate(registrationId: $id, kind: $kind) { url } }",
        {"id": {"number": "330106 19900307 1236"}, "kind": "138-1234-5678 E12345678"},
    )
    assert body["errors"]
    log = json_log.getvalue()
    records = [r for r in map(json.loads, log.splitlines()) if r["logger"] == "gql"]
    assert records, "the refusals are logged"
    assert {r["operation"] for r in records} == {"Leak", "Coerce"}
    assert all(r["document_id"].startswith("sha256:") for r in records)
    assert all(r["level"] == "info" for r in records)  # user errors: no ERROR, no traceback
    assert "Traceback" not in log and "exception" not in log
    for literal in LITERALS.values():
        assert literal not in log
    assert not any(core in log for core in CORES)
    for text in ("devLogin", "mutation", "accessToken", "张三", "variables", "number"):
        assert text not in log  # neither the query text nor the variables
    ours = "".join(line for line in log.splitlines() if '"logger": "gql"' in line)
    assert len(ours) < 1_000, f"{len(ours)} bytes of log for two bad requests"


async def test_a_fault_is_logged_with_its_traceback_scrubbed(
    api: Api, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gql.reference.types import Division

    def broken(cls: type, division: object) -> None:
        raise RuntimeError("lookup failed for 330106 19900307 1236 / 138-1234-5678 / E12345678")

    monkeypatch.setattr(Division, "of", classmethod(broken))
    body = await api.post('query Boom { divisions(parentCode: "330100") { code } }')
    assert body["errors"]
    log = json_log.getvalue()
    records = [json.loads(line) for line in log.splitlines()]
    faults = [r for r in records if r["level"] == "error"]
    assert faults and faults[0]["event"] == "graphql.fault"
    assert faults[0]["operation"] == "Boom" and faults[0]["path"] == "divisions"
    assert "Traceback" in faults[0]["exception"]
    assert "330106********1236" in log
    assert not any(core in log for core in CORES)
    assert "E12345678" not in log
