"""The console's files without a browser: its operations are valid named documents of the
schema, it sends nothing else, and every response carries the security headers."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import OperationDefinitionNode, parse, validate

from gql.schema import build_schema
from server.console import CONSOLE_DIR, OPERATIONS_DIR, content_security_policy
from tests.api import Api, settings_for

SOURCES = [*sorted(CONSOLE_DIR.glob("**/*.js")), CONSOLE_DIR / "index.html"]
OWN_SOURCES = [p for p in SOURCES if "vendor" not in p.parts]


def console_operations() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in OPERATIONS_DIR.glob("Console*.graphql")}


def test_every_operation_file_is_one_valid_named_operation() -> None:
    schema = build_schema(production=False)._schema
    operations = console_operations()
    assert len(operations) >= 10
    for name, text in operations.items():
        document = parse(text)
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        assert len(document.definitions) == len(definitions) == 1, name
        assert definitions[0].name is not None and definitions[0].name.value == name
        assert validate(schema, document) == [], name


def test_the_scripts_name_only_operations_that_exist() -> None:
    named = set()
    for path in OWN_SOURCES:
        named |= set(re.findall(r'"(Console[A-Z][A-Za-z]+)"', path.read_text(encoding="utf-8")))
    assert named, "the console sends no operations?"
    assert named <= set(console_operations()), named - set(console_operations())


def test_no_inline_script_style_or_html_strings() -> None:
    html = (CONSOLE_DIR / "index.html").read_text(encoding="utf-8")
    assert all(' src="' in tag for tag in re.findall(r"<script[^>]*>", html))
    for path in OWN_SOURCES:
        text = path.read_text(encoding="utf-8")
        for forbidden in ("style=", ".style.", "innerHTML", "outerHTML", "eval(", "localStorage"):
            assert forbidden not in text, (path.name, forbidden)
    assert (CONSOLE_DIR / "vendor" / "echarts.min.js").stat().st_size > 500_000


def test_policy_names_the_storage_host() -> None:
    settings = settings_for(
        "sqlite+aiosqlite:///:memory:",
        Path("/nonexistent"),
        s3_endpoint_url="http://minio:9000",
        s3_public_endpoint_url="https://oss.example.cn/path",
    )
    policy = content_security_policy(settings, "console.example.cn")
    assert "img-src 'self' data: https://oss.example.cn http://minio:9000;" in policy
    assert "connect-src 'self' ws://console.example.cn wss://console.example.cn;" in policy
    assert "ws://evil" not in content_security_policy(settings, "evil host;script-src *")


async def test_console_responses_carry_the_headers(api: Api) -> None:
    for path in (
        "/console/",
        "/console/app.js",
        "/console/vendor/echarts.min.js",
        "/console/operations/ConsoleQueue.graphql",
        "/console/config.json",
    ):
        response = await api.http.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy and "unsafe" not in policy
        assert response.headers["x-frame-options"] == "DENY"
    text = (await api.http.get("/console/operations/ConsoleQueue.graphql")).content
    assert text == (OPERATIONS_DIR / "ConsoleQueue.graphql").read_bytes()
    redirect = await api.http.get("/console", follow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["location"] == "/console/"
    assert (await api.http.get("/console/operations/../../pyproject.toml")).status_code == 404
    assert (await api.http.get("/console/operations/")).status_code == 404


async def test_config_tells_whether_dev_login_exists(api: Api) -> None:
    assert (await api.http.get("/console/config.json")).json() == {"devLogin": True}
