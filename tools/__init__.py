"""Tools for developers and operators: seed data, the reference client, README tables, benchmarks."""
