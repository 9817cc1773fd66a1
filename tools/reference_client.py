"""A reference client that behaves as the mini-program does, against a running server.

    python -m tools.reference_client --url http://127.0.0.1:8000

It signs in (``devLogin``: the server must run with APP_ENV=dev), opens one WebSocket
(graphql-transport-ws, the token in ``connection_init``), starts a registration and
subscribes to its events, walks every wizard step, uploads each required proof
(``requestAttachmentUpload`` → multipart POST → ``confirmAttachmentUpload``), submits, and
waits on the subscription for the bureau's decision. When the registration is RETURNED it
fixes what the reviewer named (uploads a proof again, saves the section again with any
``--fix FIELD=VALUE`` corrections), submits again and keeps waiting, until APPROVED.

Like a phone it pings the socket every 20 s and, when the socket drops, reconnects and
subscribes again with ``after`` = the last cursor received, so nothing is missed or seen twice.

Exit status: 0 approved, 1 the registration ended otherwise (e.g. withdrawn), 2 an error or
``--timeout`` seconds without a decision.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image, ImageDraw
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tools.sample_answers import BASIC, FULL_TIME, NOTICE, QUALIFICATION, WORK_UNIT

PROTOCOL = "graphql-transport-ws"

REGISTRATION = """
  id status version reopenedFields
  steps { step complete missing }
  requiredAttachments { kind required satisfied }
  problems { field code message }
"""
PAYLOAD = "{ registration { " + REGISTRATION + " } errors { field code message } }"
DEV_LOGIN = """mutation($input: DevLoginInput!) {
  devLogin(input: $input) { accessToken refreshToken errors { field code message } } }"""
START = "mutation { startRegistration " + PAYLOAD + " }"
MY_REGISTRATION = "{ myRegistration { " + REGISTRATION + " } }"
STEPS = {
    "acknowledgeNotice": "AcknowledgeNoticeInput",
    "saveBasicInfo": "SaveBasicInfoInput",
    "saveWorkOrResidence": "SaveWorkOrResidenceInput",
    "saveEducation": "SaveEducationInput",
    "saveQualification": "SaveQualificationInput",
    "submitRegistration": "SubmitRegistrationInput",
}
REQUEST_UPLOAD = """mutation($input: RequestAttachmentUploadInput!) {
  requestAttachmentUpload(input: $input) {
    upload { id url fields { name value } expiresAt maxBytes } errors { field code message } } }"""
CONFIRM_UPLOAD = (
    """mutation($input: ConfirmAttachmentUploadInput!) {
  confirmAttachmentUpload(input: $input) {
    attachment { id kind } registration { """
    + REGISTRATION
    + """ }
    errors { field code message } } }"""
)
EVENTS = """subscription($id: ID!, $after: String) {
  registrationEvents(registrationId: $id, after: $after) {
    cursor kind status occurredAt comment items { field reason { code name } note } } }"""

FINAL = {"APPROVED", "WITHDRAWN"}


class ClientError(Exception):
    """The server refused something the client cannot fix by itself."""


@dataclass
class Identity:
    name: str = "张三"
    id_type: str = "01"
    id_number: str = "330106199003071236"
    phone: str = "13812345678"

    def login_input(self) -> dict[str, str]:
        return {
            "name": self.name,
            "idType": self.id_type,
            "idNumber": self.id_number,
            "phone": self.phone,
        }


@dataclass
class Answers:
    """The applicant's answers; ``apply`` corrects one (``section.field``)."""

    basic: dict[str, Any] = field(default_factory=lambda: dict(BASIC))
    work_unit: dict[str, Any] = field(default_factory=lambda: dict(WORK_UNIT))
    full_time: dict[str, Any] = field(default_factory=lambda: dict(FULL_TIME))
    qualification: dict[str, Any] = field(default_factory=lambda: dict(QUALIFICATION))

    def apply(self, path: str, value: str) -> None:
        targets = {
            "basicInfo": self.basic,
            "workUnit": self.work_unit,
            "education.fullTime": self.full_time,
            "qualification": self.qualification,
        }
        section, _, name = path.rpartition(".")
        if section not in targets or not name:
            raise ValueError(f"cannot fix {path!r}")
        targets[section][name] = value


# -- test files a phone camera would produce ------------------------------------------------


def id_photo_jpeg(seed: int = 1) -> bytes:
    """A 2-inch ID photo: 600x900 JPEG, white background, a textured subject, > 60 KB."""
    rng = random.Random(seed)  # noqa: S311 - test content
    image = Image.new("RGB", (600, 900), (250, 250, 250))
    subject = Image.effect_noise((360, 620), 60).convert("RGB")
    mask = Image.new("L", subject.size, 0)
    ImageDraw.Draw(mask).ellipse((20, 0, 340, 620), fill=255)
    image.paste(subject, (120 + rng.randint(-5, 5), 260), mask)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def document_jpeg(seed: int = 1) -> bytes:
    """A scanned A4 page: 1240x1754 JPEG with lines of 'text'."""
    rng = random.Random(seed)  # noqa: S311 - test content
    image = Image.new("RGB", (1240, 1754), (246, 246, 242))
    draw = ImageDraw.Draw(image)
    for row in range(60):
        y = 120 + row * 26
        x = 100
        while x < 1120:
            width = rng.randint(8, 40)
            draw.rectangle((x, y, x + width, y + 14), fill=(40, 40, 40))
            x += width + rng.randint(6, 14)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# -- the client -------------------------------------------------------------------------------


class MiniProgram:
    """One applicant's phone. ``say`` prints progress (no personal data)."""

    def __init__(
        self,
        base_url: str,
        identity: Identity | None = None,
        answers: Answers | None = None,
        *,
        corrections: dict[str, str] | None = None,
        reviewer: DevReviewer | None = None,
        say: Callable[[str], None] | None = None,
        ping_interval: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.identity = identity or Identity()
        self.answers = answers or Answers()
        self.corrections = dict(corrections or {})
        self.say = say or (lambda line: print(f"[{time.strftime('%H:%M:%S')}] {line}"))
        self.ping_interval = ping_interval
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=30)
        self.token: str | None = None
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.last_cursor: str | None = None
        self.decisions: list[str] = []
        self.registration_id: str | None = None
        self.reviewer = reviewer
        self._review_tasks: set[asyncio.Task[None]] = set()
        self._socket_task: asyncio.Task[None] | None = None

    async def close(self) -> None:
        for task in self._review_tasks:
            task.cancel()
        if self.reviewer is not None:
            await self.reviewer.close()
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._socket_task
        await self.http.aclose()

    # -- GraphQL over HTTP ------------------------------------------------------------------
    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        if body.get("errors"):
            raise ClientError(json.dumps(body["errors"], ensure_ascii=False))
        return body["data"]

    async def mutate(self, name: str, registration: dict[str, Any], **fields: Any) -> Any:
        """One wizard step with the registration's id and version; FieldErrors raise."""
        query = f"mutation($input: {STEPS[name]}!) {{ {name}(input: $input) " + PAYLOAD + " }"
        variables = {
            "input": {
                "registrationId": registration["id"],
                "expectedVersion": registration["version"],
                **fields,
            }
        }
        payload = (await self.graphql(query, variables))[name]
        if payload["errors"]:
            raise ClientError(f"{name}: {payload['errors']}")
        return payload["registration"]

    async def current(self) -> dict[str, Any]:
        return (await self.graphql(MY_REGISTRATION))["myRegistration"]

    # -- the flow ---------------------------------------------------------------------------
    async def sign_in(self) -> None:
        result = (await self.graphql(DEV_LOGIN, {"input": self.identity.login_input()}))["devLogin"]
        if result["errors"]:
            raise ClientError(f"devLogin: {result['errors']}")
        self.token = result["accessToken"]
        self.say("signed in")

    async def run(self, within: float = 300.0) -> str:
        """The whole flow; returns the final status (APPROVED when all went well)."""
        async with asyncio.timeout(within):
            await self.sign_in()
            registration = (await self.graphql(START))["startRegistration"]["registration"]
            self.registration_id = registration["id"]
            self.say(f"registration {registration['id']} ({registration['status']})")
            self.listen(registration["id"])
            if registration["status"] in ("DRAFT", "RETURNED"):
                registration = await self.fill_wizard(registration)
                registration = await self.upload_attachments(registration)
                await self.submit(registration)
            return await self.wait_for_decision()

    async def fill_wizard(self, registration: dict[str, Any]) -> dict[str, Any]:
        registration = await self.mutate("acknowledgeNotice", registration, **NOTICE)
        registration = await self.mutate("saveBasicInfo", registration, **self.answers.basic)
        registration = await self.mutate(
            "saveWorkOrResidence", registration, workUnit=self.answers.work_unit
        )
        registration = await self.mutate(
            "saveEducation", registration, fullTime=self.answers.full_time, partTime=None
        )
        registration = await self.mutate(
            "saveQualification", registration, qualification=self.answers.qualification
        )
        self.say("steps 1-5 saved")
        return registration

    async def upload_attachments(self, registration: dict[str, Any]) -> dict[str, Any]:
        for item in registration["requiredAttachments"]:
            if item["required"] and not item["satisfied"]:
                registration = await self.upload_attachment(registration, item["kind"])
        return registration

    async def upload_attachment(self, registration: dict[str, Any], kind: str) -> dict[str, Any]:
        """The upload step: ask for an upload, POST the file (fields first, then ``file``, as
        ``my.uploadFile`` sends it), confirm. Returns the registration."""
        content = id_photo_jpeg(len(self.decisions)) if kind == "ID_PHOTO" else document_jpeg()
        ticket_payload = (
            await self.graphql(
                REQUEST_UPLOAD,
                {
                    "input": {
                        "registrationId": registration["id"],
                        "kind": kind,
                        "contentType": "image/jpeg",
                        "byteSize": len(content),
                    }
                },
            )
        )["requestAttachmentUpload"]
        if ticket_payload["errors"]:
            raise ClientError(f"requestAttachmentUpload {kind}: {ticket_payload['errors']}")
        ticket = ticket_payload["upload"]
        form = [(f["name"], f["value"]) for f in ticket["fields"]]
        async with httpx.AsyncClient(timeout=60) as storage:
            response = await storage.post(
                ticket["url"],
                data=dict(form),
                files={"file": (f"{kind}.jpg", content, "image/jpeg")},
            )
        if response.status_code >= 300:
            raise ClientError(f"upload {kind}: HTTP {response.status_code}")
        confirmed = (await self.graphql(CONFIRM_UPLOAD, {"input": {"uploadId": ticket["id"]}}))[
            "confirmAttachmentUpload"
        ]
        if confirmed["errors"]:
            raise ClientError(f"confirmAttachmentUpload {kind}: {confirmed['errors']}")
        self.say(f"uploaded {kind}")
        return confirmed["registration"]

    async def submit(self, registration: dict[str, Any]) -> dict[str, Any]:
        registration = await self.mutate(
            "submitRegistration", registration, agreed=True, idempotencyKey=uuid.uuid4().hex
        )
        self.say(f"submitted (version {registration['version']})")
        if self.reviewer is not None:
            task = asyncio.create_task(self.reviewer.review(registration["id"]))
            self._review_tasks.add(task)
            task.add_done_callback(self._reviewed)
        return registration

    def _reviewed(self, task: asyncio.Task[None]) -> None:
        self._review_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.say(f"(reviewer) failed: {task.exception()}")

    async def wait_for_decision(self) -> str:
        while True:
            event = await self.events.get()
            self.say(f"event {event['cursor']}: {event['kind']} → {event['status']}")
            if event["kind"] == "RETURNED":
                self.decisions.append("RETURNED")
                await self.fix(event)
            elif event["status"] in FINAL:
                self.decisions.append(event["status"])
                return str(event["status"])

    async def fix(self, event: dict[str, Any]) -> None:
        """Do what the reviewer asked, then submit again."""
        self.say(f"returned: {len(event['items'])} item(s) to fix; {event['comment'] or ''}")
        registration = await self.current()
        sections: set[str] = set()
        for item in event["items"]:
            path = item["field"]
            self.say(f"  fix {path}: {item['reason']['name']} {item.get('note') or ''}")
            if path.startswith("attachments."):
                registration = await self.upload_attachment(registration, path.split(".", 1)[1])
                continue
            if path in self.corrections:  # what the applicant types on the form
                self.answers.apply(path, self.corrections[path])
            sections.add(path.split(".", 1)[0])
        if "basicInfo" in sections:
            registration = await self.mutate("saveBasicInfo", registration, **self.answers.basic)
        if sections & {"workUnit", "residence"}:
            registration = await self.mutate(
                "saveWorkOrResidence", registration, workUnit=self.answers.work_unit
            )
        if "education" in sections:
            registration = await self.mutate(
                "saveEducation", registration, fullTime=self.answers.full_time, partTime=None
            )
        if "qualification" in sections:
            registration = await self.mutate(
                "saveQualification", registration, qualification=self.answers.qualification
            )
        await self.submit(registration)

    # -- the WebSocket ----------------------------------------------------------------------
    def listen(self, registration_id: str) -> None:
        self._socket_task = asyncio.create_task(self._socket(registration_id))

    async def _socket(self, registration_id: str) -> None:
        url = self.base_url.replace("http", "ws", 1) + "/graphql"
        delay = 0.5
        while True:
            try:
                async with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as ws:  # type: ignore[list-item]
                    delay = 0.5
                    await self._session(ws, registration_id)
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                self.say(f"socket lost ({type(exc).__name__}); reconnecting in {delay:.1f}s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)

    async def _session(self, ws: ClientConnection, registration_id: str) -> None:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
            )
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if ack.get("type") != "connection_ack":
            raise ClientError(f"no connection_ack: {ack}")
        variables = {"id": registration_id, "after": self.last_cursor}
        await ws.send(
            json.dumps(
                {
                    "id": "events",
                    "type": "subscribe",
                    "payload": {"query": EVENTS, "variables": variables},
                }
            )
        )
        pinger = asyncio.create_task(self._ping(ws))
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "next" and message.get("id") == "events":
                    event = message["payload"]["data"]["registrationEvents"]
                    self.last_cursor = event["cursor"]
                    await self.events.put(event)
                elif message.get("type") in ("error", "complete"):
                    raise ClientError(f"subscription ended: {message}")
        finally:
            pinger.cancel()

    async def _ping(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            await ws.send(json.dumps({"type": "ping"}))


class DevReviewer:
    """Development only (``--auto-review``): a reviewer of ``department`` (devLogin) who
    returns the first submission (asking for a new ID photo) and approves the next,
    so the whole flow runs unattended. The applicant still learns each result by the
    subscription."""

    RETURN_ITEMS = ({"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},)

    def __init__(self, base_url: str, department: str, say: Callable[[str], None]) -> None:
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=30)
        self.department = department
        self.say = say
        self.token: str | None = None
        self.decisions = 0

    async def close(self) -> None:
        await self.http.aclose()

    async def _data(self, query: str, variables: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body = response.json()
        if body.get("errors"):
            raise ClientError(json.dumps(body["errors"], ensure_ascii=False))
        return body["data"]

    async def review(self, registration_id: str) -> None:
        if self.token is None:
            login = {"name": "审核员", "reviewerDepartmentCode": self.department}
            self.token = (await self._data(DEV_LOGIN, {"input": login}))["devLogin"]["accessToken"]
        await asyncio.sleep(1.0)  # a person reads the registration
        current = (
            await self._data(
                "query($id: ID!) { registration(id: $id) { version } }", {"id": registration_id}
            )
        )["registration"]
        base = {"registrationId": registration_id, "expectedVersion": current["version"]}
        if self.decisions == 0:
            name, type_name = "returnRegistration", "ReturnRegistrationInput"
            fields: dict[str, Any] = {"items": list(self.RETURN_ITEMS), "comment": "请按要求修改"}
        else:
            name, type_name = "approveRegistration", "ApproveRegistrationInput"
            fields = {"comment": "审核通过"}
        query = (
            f"mutation($input: {type_name}!) {{ {name}(input: $input) "
            "{ errors { field code message } } }"
        )
        result = (await self._data(query, {"input": base | fields}))[name]
        if result["errors"]:
            raise ClientError(f"{name}: {result['errors']}")
        self.decisions += 1
        self.say(f"(reviewer) {name} done")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reference_client")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's base URL")
    parser.add_argument("--name", default=Identity.name)
    parser.add_argument("--id-number", default=Identity.id_number)
    parser.add_argument("--phone", default=Identity.phone)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait in all")
    parser.add_argument(
        "--auto-review",
        metavar="DEPARTMENT",
        help="development only: also play a reviewer of this department (e.g. 330102) who "
        "returns the first submission and approves the next",
    )
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a corrected answer used when a reviewer returns FIELD, e.g. basicInfo.ethnicGroup=02",
    )
    args = parser.parse_args(argv)
    corrections = dict(item.partition("=")[::2] for item in args.fix)
    for path in corrections:
        Answers().apply(path, "")  # refuse an unknown path before starting

    def say(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)

    client = MiniProgram(
        args.url,
        Identity(args.name, "01", args.id_number, args.phone),
        corrections=corrections,
        reviewer=DevReviewer(args.url, args.auto_review, say) if args.auto_review else None,
        say=say,
    )

    async def go() -> str:
        try:
            return await client.run(args.timeout)
        finally:
            await client.close()

    try:
        status = asyncio.run(go())
    except TimeoutError:
        print(f"no decision within {args.timeout:.0f}s", file=sys.stderr)
        return 2
    except (ClientError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"final status: {status}")
    return 0 if status == "APPROVED" else 1


if __name__ == "__main__":
    raise SystemExit(main())
