"""What every resolver can reach: the services of this process and who is asking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from config.settings import Settings
from models.db import SessionFactory
from models.reference import ReferenceData
from services.principal import Principal
from services.sessions import SessionConfig

if TYPE_CHECKING:
    from services.container import Services


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | WebSocket | None
    principal: Principal | None = None
    auth_failure: str | None = None  # "expired" or "invalid" when a token was sent but refused
    connection_params: dict[str, Any] | None = None
    token_expires_at: datetime | None = None  # of the access token the principal came from
    close_socket: Callable[[int, str], None] | None = None  # set on a WebSocket (gql.sockets)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def reference(self) -> ReferenceData:
        return self.services.reference

    @property
    def db(self) -> SessionFactory:
        return self.services.db

    @property
    def session_config(self) -> SessionConfig:
        return self.services.session_config

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"


Info = StrawberryInfo[Context, None]
