"""schema.graphql is the product's public contract: it must match the code."""

from gql.schema import export_sdl
from tools.export_schema import SCHEMA_PATH


def test_schema_graphql_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == export_sdl(), (
        "schema.graphql is stale: run `make schema` and review the diff"
    )


def test_contract_names_from_the_design_are_present() -> None:
    sdl = export_sdl()
    for name in (
        "formOptions",
        "divisions(parentCode",
        "devLogin(input",
        "refreshSession(",
        "logout",
        "viewer",
        "staffLogin(input",
    ):
        assert name in sdl, name
