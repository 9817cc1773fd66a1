"""What every pluggable backend is: built by its family's ``from_settings()``, checked with
``ping()``, closed with ``aclose()``.

The families: attachment storage (``storage.factory``), identity providers
(``integrations.identity.providers``), SMS senders (``integrations.sms.factory``), event brokers
(``integrations.broker_factory``) and unit registries (``integrations.unit_directory``). The
services container builds each one through its ``from_settings`` and nothing else, pings them
for ``/readyz`` and closes them at shutdown.
"""

from __future__ import annotations

from typing import Protocol


class Backend(Protocol):
    async def ping(self) -> bool:
        """Whether the backend can serve now (cheap: no user-visible side effect)."""
        ...

    async def aclose(self) -> None:
        """Release connections and tasks; safe to call twice."""
        ...
