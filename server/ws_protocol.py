"""uvicorn's ``websockets-sansio`` WebSocket implementation, lenient about one header.

Some WebSocket clients (mini-program builds among them) send an empty
``Sec-WebSocket-Protocol:`` header, or one with empty items (``graphql-transport-ws,``). The
``websockets`` library rejects such a handshake with HTTP 400 before the application sees
it (the deprecated ``websockets`` implementation let it through). This protocol drops the
empty items first, so such a client is served like one that offers no sub-protocol
(graphql-transport-ws, ``gql.sockets``). Use it as ``uvicorn.run(..., ws=LenientWebSocketProtocol)``.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

_HEADER = "Sec-WebSocket-Protocol"


class LenientWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Request) -> None:
        values = event.headers.get_all(_HEADER)
        if values:
            offered = [item.strip() for value in values for item in value.split(",")]
            kept = [item for item in offered if item]
            if len(kept) != len(offered):
                del event.headers[_HEADER]
                if kept:
                    event.headers[_HEADER] = ", ".join(kept)
        super().handle_connect(event)
