"""Application services below the GraphQL face: sessions and staff accounts, the outbox dispatcher,
signed links, proof templates, exports, and the container that builds them from the settings."""
