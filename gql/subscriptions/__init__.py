"""GraphQL subscriptions over graphql-transport-ws: registration events and the review queue."""

from gql.subscriptions.resolvers import RealtimeSubscription

Subscription = RealtimeSubscription

__all__ = ["Subscription"]
