"""Documents too big to validate cheaply are refused before validation, in a few milliseconds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from graphql import parse

from gql.document_cost import Limits, check, measure
from tests.api import Api

CPU_BUDGET_S = 0.05  # no request may hold the event loop longer before it is refused


def doubling(levels: int, name: str = "Q") -> str:
    """The issue's shape: each fragment spreads the next twice (2**levels fields once expanded)."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ __typename }}")
    return f"query {name} {{ ...F0 }} " + " ".join(fragments)


SHAPES = {
    "doubling-20": (doubling(20), "1048576 times"),
    "doubling-40": (doubling(40), "times in one selection set"),
    "repeated-450": ("{ " + "viewer { kind } " * 450 + "}", "more than 1000 tokens"),
    "repeated-200": ("{ " + "viewer { kind } " * 200 + "}", "200 times"),
    "inline-repeats": ("{ " + "... on Query { viewer { kind } } " * 100 + "}", "100 times"),
    "cycle": (
        "{ ...A } fragment A on Query { viewer { kind } ...B } fragment B on Query { ...A }",
        "fragment cycle",
    ),
    "self-spread": ("{ ...A } fragment A on Query { ...A }", "fragment cycle"),
    "unused-fragment": (
        "{ viewer { kind } } fragment U on Query { " + "viewer { kind } " * 200 + "}",
        "'U' selects one field 200 times",
    ),
    "many-fragments": (
        "{ viewer { "
        + " ".join(f"...V{i}" for i in range(80))
        + " } } "
        + " ".join(f"fragment V{i} on Viewer {{ kind }}" for i in range(80)),
        "80 fragments",
    ),
    "wide-fragments": (
        "{ ...W } fragment W on Query { "
        + " ".join(f"a{i}: registrations(first: 1000) {{ ...P }}" for i in range(25))
        + " } fragment P on RegistrationConnection { edges { node { id name status version "
        "maskedIdNumber maskedPhone submittedAt decidedAt submissionCount } } }",
        "costs",
    ),
}


def test_the_measure_expands_spreads_without_walking_them() -> None:
    tally = measure(parse(doubling(40)))["operation Q"]
    assert tally.fields >= 2**40  # saturated, computed from 41 fragment definitions
    document = parse(doubling(400))
    started = time.thread_time()
    assert check(document, Limits()) is not None
    assert time.thread_time() - started < CPU_BUDGET_S


def test_a_valid_document_passes_the_pre_check() -> None:
    document = parse("query V { viewer { kind department { code name } } a: viewer { kind } }")
    assert check(document, Limits()) is None
    tally = measure(document)["operation V"]
    assert (tally.fields, tally.aliases, tally.depth, tally.repeats) == (7, 1, 2, 1)


def test_list_fields_multiply_the_cost() -> None:
    from gql.schema import build_schema

    schema = build_schema(production=False)._schema
    page = parse("query Q($n: Int) { registrations(first: $n) { edges { node { id name } } } }")
    small = measure(page, schema, {"n": 5})["operation Q"].cost
    large = measure(page, schema, {"n": 500})["operation Q"].cost  # served: 100 at most
    assert large == 20 * (small - 1) + 1
    assert check(page, Limits(max_cost=300), schema, {"n": 500}) is not None


async def _refused_quickly(api: Api, query: str) -> tuple[dict[str, object], float]:
    # this thread's CPU: the in-process app runs on it; other tests' server threads do not
    started = time.thread_time()
    body = await api.post(query)
    return body, time.thread_time() - started


@pytest.mark.parametrize("shape", SHAPES)
async def test_expensive_shapes_are_refused_within_the_cpu_budget(api: Api, shape: str) -> None:
    query, complaint = SHAPES[shape]
    await api.post("{ viewer { kind } }")  # warm caches and imports
    # three texts (the parser cache does not help); the median, so that a garbage-collector
    # pause of the test process does not count against the refusal
    cpus = []
    for n in range(3):
        body, cpu = await _refused_quickly(api, f"{query}\n# {n}")
        cpus.append(cpu)
    cpu = sorted(cpus)[1]
    errors = body["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert complaint in errors[0]["message"]
    assert body.get("data") is None
    assert cpu < CPU_BUDGET_S, f"{shape}: {[round(c * 1000, 1) for c in cpus]} ms of CPU"


async def test_huge_variables_are_refused_before_coercion(api: Api) -> None:
    query = (
        "mutation R($i: ReturnRegistrationInput!) "
        "{ returnRegistration(input: $i) { errors { code } } }"
    )
    items = [{"field": "basicInfo.name", "reasonCode": "01", "note": "x"}] * 15_000
    variables = {"i": {"registrationId": "1", "expectedVersion": 1, "items": items}}
    started = time.thread_time()
    body = await api.post(query, variables)
    cpu = time.thread_time() - started
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "variables" in body["errors"][0]["message"]
    assert cpu < 0.2  # parsing the 900 KB body as JSON and counting stops early
    print(f"\n900 KB of variables refused in {cpu * 1000:.0f} ms of CPU")


async def test_changing_the_operation_name_does_not_make_it_expensive(api: Api) -> None:
    for n in range(5):
        body, cpu = await _refused_quickly(api, doubling(20, name=f"Q{n}"))
        assert body["errors"] and cpu < CPU_BUDGET_S


async def test_healthz_stays_fast_while_expensive_documents_arrive(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Against a real uvicorn worker process: four clients send the shapes over and over;
    /healthz keeps answering, and every refusal comes back well inside a second."""
    import os

    from tests.realtime import uvicorn_worker

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env |= {
        "APP_ENV": "dev",
        "DATABASE_URL": sqlite_url,
        "STORAGE_LOCAL_ROOT": str(tmp_path / "uploads"),
        "DISPATCHER_IN_PROCESS": "false",
        "LOG_LEVEL": "WARNING",
    }
    heavy = [SHAPES[s][0] for s in ("doubling-20", "doubling-40", "repeated-450", "cycle")]
    answers: list[float] = []
    health: list[float] = []
    worker = uvicorn_worker(env, tmp_path, "worker")
    worker.launch()
    try:
        worker.ready(timeout=240)  # importing the app is slow when the machine is busy
        async with httpx.AsyncClient(base_url=worker.base_url, timeout=10) as http:
            await http.post("/graphql", json={"query": "{ viewer { kind } }"})  # warm up

            async def attacker(query: str) -> None:
                for _ in range(10):
                    started = time.perf_counter()
                    response = await http.post("/graphql", json={"query": query})
                    answers.append(time.perf_counter() - started)
                    assert response.json()["errors"][0]["extensions"]["code"] == (
                        "QUERY_TOO_COMPLEX"
                    )

            async def prober() -> None:
                for _ in range(30):
                    started = time.perf_counter()
                    assert (await http.get("/healthz")).status_code == 200
                    health.append(time.perf_counter() - started)
                    await asyncio.sleep(0.01)

            await asyncio.gather(prober(), *(attacker(q) for q in heavy))
    finally:
        worker.stop()
    answers.sort()
    health.sort()
    print(
        f"\nrefusals ({len(answers)}, 4 clients at once): median "
        f"{answers[len(answers) // 2] * 1000:.0f} ms, max {answers[-1] * 1000:.0f} ms; "
        f"/healthz meanwhile: median {health[len(health) // 2] * 1000:.0f} ms, "
        f"max {health[-1] * 1000:.0f} ms"
    )
    assert answers[-1] < 1.0  # generous: a shared two-core machine
    assert health[-1] < 1.0
