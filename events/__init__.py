"""Event fan-out for GraphQL subscriptions: in-process or across workers via Redis."""

from events.broker import (
    GAP_CONNECTION,
    GAP_OVERFLOW,
    BrokerUnavailable,
    Delivery,
    EventBroker,
    Gap,
    InProcessBroker,
    Subscription,
)
from events.redis_broker import RedisBroker

__all__ = [
    "GAP_CONNECTION",
    "GAP_OVERFLOW",
    "BrokerUnavailable",
    "Delivery",
    "EventBroker",
    "Gap",
    "InProcessBroker",
    "RedisBroker",
    "Subscription",
]
