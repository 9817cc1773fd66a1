"""Entry points above the GraphQL face: the ASGI app, serve, migrate, the CLI, the dispatch worker."""
