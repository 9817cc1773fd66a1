"""Short-lived signed download links for the employer-proof templates, and the route serving them.

The link names a registration and a proof kind and expires; the route renders the template from
the registration as it is when downloaded. No session is needed to follow the link (a
mini-program's downloadFile sends none), so the signature is the permission.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from models.db import SessionFactory, utcnow
from models.reference import ReferenceData
from models.registration_data import load_registration
from services.proof_templates import ProofKind, proof_unit_name, render_employer_proof

PROOF_KINDS = ("FIRST_EMPLOYER_PROOF", "CURRENT_EMPLOYER_PROOF")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_template_link(secret: bytes, registration_id: str, kind: str, expires_at: int) -> str:
    payload = _b64(json.dumps({"r": registration_id, "k": kind, "e": expires_at}).encode())
    signature = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def read_template_link(secret: bytes, token: str, now: float) -> tuple[str, str] | None:
    """(registration id, kind) of a valid, unexpired token; None otherwise."""
    payload, _, signature = token.partition(".")
    expected = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        return None
    try:
        data = json.loads(_unb64(payload))
        registration_id, kind, expires_at = str(data["r"]), str(data["k"]), int(data["e"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires_at < now or kind not in PROOF_KINDS:
        return None
    return registration_id, kind


def template_routes(secret: bytes, db: SessionFactory, reference: ReferenceData) -> list[Route]:
    async def download(request: Request) -> Response:
        found = read_template_link(secret, request.path_params["token"], time.time())
        if found is None:
            return PlainTextResponse("链接无效或已过期，请重新获取。", status_code=403)
        registration_id, kind = found
        async with db() as session:
            data = await load_registration(session, registration_id)
        if data is None or data.basic is None:
            return PlainTextResponse("登记不存在。", status_code=404)
        proof: ProofKind = (
            "FIRST_EMPLOYER_PROOF" if kind == "FIRST_EMPLOYER_PROOF" else "CURRENT_EMPLOYER_PROOF"
        )
        unit = data.work_unit
        page = render_employer_proof(
            proof,
            name=data.basic.name,
            id_type_name=reference.name_of("id_document_type", data.basic.id_type) or "",
            id_number=data.basic.id_number,
            unit_name=proof_unit_name(
                proof,
                unit.unit_name if unit else None,
                unit.is_first_employer if unit else None,
            ),
            issued_on=utcnow().date(),
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    return [Route("/templates/{token}", download, methods=["GET"])]
