"""Start the service with uvicorn on the configured host and port: ``python -m server.serve``."""

from __future__ import annotations

from typing import Any

import uvicorn

from config.logs import configure_logging
from config.settings import Settings
from server.ws_protocol import LenientWebSocketProtocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's configuration for these settings."""
    return dict(
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        ws=LenientWebSocketProtocol,  # websockets-sansio, lenient about empty sub-protocols
        ws_per_message_deflate=False,  # 59 KiB per idle socket instead of 103 (perf-notes)
        proxy_headers=True,  # the client address is taken from X-Forwarded-For only when
        forwarded_allow_ips=settings.forwarded_allow_ips,  # the peer is one of these proxies
        log_config=None,
        access_log=False,
    )


def main() -> None:
    settings = Settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    uvicorn.run("server.app:create_app", **uvicorn_options(settings))


if __name__ == "__main__":
    main()
