"""The bureau staff console: static files at /console, the operations it sends at
/console/operations/, both under a strict Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_DIR = ROOT / "console"
OPERATIONS_DIR = ROOT / "operations"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?$")


def storage_origins(settings: Settings) -> list[str]:
    """Where attachment previews come from: the S3 endpoint the browser reaches, if any."""
    origins: list[str] = []
    for url in (settings.s3_public_endpoint_url, settings.s3_endpoint_url):
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
            if settings.s3_addressing_style == "virtual" and settings.s3_bucket:
                origins.append(f"{parts.scheme}://{settings.s3_bucket}.{parts.netloc}")
    return list(dict.fromkeys(origins))


def content_security_policy(settings: Settings, host: str | None) -> str:
    images = " ".join(["'self'", "data:", *storage_origins(settings)])
    connect = "'self'"
    if host and _HOST.match(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecureHeaders:
    """Adds the console's security headers to every response of the wrapped app."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = content_security_policy(self.settings, Headers(scope=scope).get("host"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cache-Control"] = "no-cache"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def console_routes(settings: Settings) -> list[BaseRoute]:
    """/console (the workbench) and /console/operations/ (the documents it sends, read-only)."""

    async def to_console(_: Request) -> Response:
        return RedirectResponse("/console/", status_code=308)

    operations = StaticFiles(directory=OPERATIONS_DIR, check_dir=False)
    files = StaticFiles(directory=CONSOLE_DIR, html=True)
    return [
        Route("/console", to_console),
        Route(
            "/console/config.json",
            SecureHeaders(JSONResponse({"devLogin": settings.is_dev}), settings),
        ),
        Mount("/console/operations", SecureHeaders(operations, settings)),
        Mount("/console", SecureHeaders(files, settings)),
    ]
