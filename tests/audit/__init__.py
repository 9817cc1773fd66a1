"""Node-side checks against the running service: graphql-http's serverAudits (the GraphQL over
HTTP specification's own audit suite) and the reference ``graphql-ws`` client. Their packages
are pinned in package-lock.json; ``make test`` runs ``npm ci --prefix tests/audit`` first."""
