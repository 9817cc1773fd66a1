"""Outside integrations behind small interfaces: identity providers, SMS, the event broker, unit directories."""
