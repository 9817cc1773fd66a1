"""Short-lived signed download links for the employer-proof templates, and the route serving them.

The link names a registration and a proof kind and expires; the route renders the template from
the registration as it is when downloaded. No session is needed to follow the link (a
mini-program's downloadFile sends none), so the signature is the permission.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from models.db import SessionFactory, utcnow
from models.link_signing import link_key, link_signature, signature_holds
from models.reference import ReferenceData
from models.registration_data import load_registration
from services.proof_templates import render_employer_proof

PROOF_KINDS = ("FIRST_EMPLOYER_PROOF", "CURRENT_EMPLOYER_PROOF")


def template_link(secret: bytes, registration_id: str, kind: str, expires_at: int) -> str:
    """The path and query of a signed link to one registration's proof template."""
    claims: dict[str, str | int] = {
        "registration": registration_id,
        "kind": kind,
        "expires": expires_at,
    }
    signature = link_signature(link_key(secret, "templates"), claims)
    return f"/templates/{kind}?{urlencode({**claims, 'signature': signature})}"


def read_template_link(
    secret: bytes, kind: str, params: Mapping[str, str], now: float
) -> str | None:
    """The registration id of a valid, unexpired link to ``kind``; None otherwise."""
    try:
        claims: dict[str, str | int] = {
            "registration": params["registration"],
            "kind": kind,
            "expires": int(params["expires"]),
        }
        signature = params["signature"]
    except (KeyError, ValueError):
        return None
    if kind not in PROOF_KINDS or int(claims["expires"]) < now:
        return None
    if not signature_holds(link_key(secret, "templates"), claims, signature):
        return None
    return str(claims["registration"])


def template_routes(secret: bytes, db: SessionFactory, reference: ReferenceData) -> list[Route]:
    async def download(request: Request) -> Response:
        kind = request.path_params["kind"]
        registration_id = read_template_link(secret, kind, request.query_params, time.time())
        if registration_id is None:
            return PlainTextResponse("链接无效或已过期，请重新获取。", status_code=403)
        async with db() as session:
            data = await load_registration(session, registration_id)
        if data is None or data.basic is None:
            return PlainTextResponse("登记不存在。", status_code=404)
        page = render_employer_proof(
            "FIRST_EMPLOYER_PROOF" if kind == "FIRST_EMPLOYER_PROOF" else "CURRENT_EMPLOYER_PROOF",
            name=data.basic.name,
            id_type_name=reference.name_of("id_document_type", data.basic.id_type) or "",
            id_number=data.basic.id_number,
            unit_name=data.work_unit.unit_name if data.work_unit else None,
            issued_on=utcnow().date(),
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    return [Route("/templates/{kind}", download, methods=["GET"])]
