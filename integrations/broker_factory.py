"""Build the event broker from the settings: Redis between workers, in process otherwise."""

from __future__ import annotations

from config.settings import Settings
from integrations.broker import EventBroker, InProcessBroker
from integrations.redis_broker import RedisBroker


def from_settings(settings: Settings, *, client_name: str = "events-broker") -> EventBroker:
    """RedisBroker when REDIS_URL is set (several workers), else the in-process broker."""
    if settings.redis_url:
        return RedisBroker(settings.redis_url, client_name=client_name)
    return InProcessBroker()
