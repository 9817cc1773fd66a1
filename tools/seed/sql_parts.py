"""SQL building blocks for the PostgreSQL generator: weighted picks from bound arrays,
log-normal waits, the check characters (weights from :mod:`models.id_numbers` and
:mod:`models.unit_codes`), return items and the code names shown in snapshots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from models.id_numbers import RESIDENT_ID_CHECK_CHARS, RESIDENT_ID_WEIGHTS
from models.reference import ReferenceData
from models.unit_codes import ORG_CODE_WEIGHTS, USCC_CHARSET, USCC_WEIGHTS


def distribution(pairs: Sequence[tuple[Any, float]]) -> tuple[list[str], list[float]]:
    """Values and the lower bounds of their shares of [0, 1): ``width_bucket(random(), bounds)``
    picks a value with its weight (a binary search: no long array to walk)."""
    total = sum(w for _, w in pairs)
    values: list[str] = []
    bounds: list[float] = []
    seen = 0.0
    for value, weight in pairs:
        values.append(
            "" if value is None else "|".join(value) if isinstance(value, tuple) else str(value)
        )
        bounds.append(seen / total)
        seen += weight
    return values, bounds


def pick(n: int) -> str:
    """SQL: a weighted pick from the distribution in parameters $n (values) and $n+1 (bounds)."""
    return f"(${n}::text[])[width_bucket(random(), ${n + 1}::float8[])]"


def uniform_pick(array: str) -> str:
    return f"({array})[1 + floor(random() * cardinality({array}))::int]"


def hours_sql(median: float, sigma: float) -> str:
    """SQL: a log-normal number of hours (capped at 120 days), as :meth:`tools.seed.timeline.Clock.later` draws them."""
    normal = "sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    return f"least({median} * exp({sigma} * {normal}), 2880)"


def after_sql(start: str, hours: str) -> str:
    return f"({start} + make_interval(secs => ({hours}) * 3600))"


def _weighted_sum(text_expr: str, weights: Sequence[int], charset: str | None = None) -> str:
    """SQL: the sum of each character's value times its weight; a character's value is its
    digit, or with ``charset`` its position there (from 0)."""
    terms = []
    for i, weight in enumerate(weights, start=1):
        char = f"substr({text_expr}, {i}, 1)"
        value = f"{char}::int" if charset is None else f"(strpos('{charset}', {char}) - 1)"
        terms.append(f"{value} * {weight}")
    return " + ".join(terms)


def resident_id_sql(body17: str) -> str:
    """SQL: the 17 digits ``body17`` with their GB 11643 check character, as
    :func:`models.id_numbers.resident_id_check_char` computes it."""
    total = _weighted_sum(body17, RESIDENT_ID_WEIGHTS)
    return f"{body17} || substr('{RESIDENT_ID_CHECK_CHARS}', 1 + ({total}) % 11, 1)"


def org_code_check_sql(body8: str) -> str:
    """SQL: the GB 11714 check character of 8 digits, as
    :func:`models.unit_codes.org_code_check_char` computes it."""
    check = f"11 - ({_weighted_sum(body8, ORG_CODE_WEIGHTS)}) % 11"
    return f"CASE {check} WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE ({check})::text END"


def uscc_check_sql(body17: str) -> str:
    """SQL: the GB 32100 check character of 17 characters, as
    :func:`models.unit_codes.uscc_check_char` computes it."""
    total = _weighted_sum(body17, USCC_WEIGHTS, USCC_CHARSET)
    return f"substr('{USCC_CHARSET}', 1 + (31 - ({total}) % 31) % 31, 1)"


REASON_FIELD_SQL = (
    "CASE {r} WHEN 'PHOTO_BACKGROUND' THEN 'attachments.ID_PHOTO' "
    "WHEN 'PHOTO_UNCLEAR' THEN 'attachments.ID_PHOTO' "
    "WHEN 'ATTACHMENT_BLURRED' THEN 'attachments.FULL_TIME_DIPLOMA' "
    "WHEN 'ATTACHMENT_MISMATCH' THEN CASE WHEN work THEN 'attachments.CURRENT_EMPLOYER_PROOF' "
    "ELSE 'attachments.FULL_TIME_DIPLOMA' END "
    "WHEN 'WRONG_DEPARTMENT' THEN CASE WHEN work THEN 'workUnit.officeDivisionCode' "
    "ELSE 'residence.divisionCode' END "
    "WHEN 'INFORMATION_INCOMPLETE' THEN 'education.fullTime.verificationNumber' "
    "WHEN 'INFORMATION_INCORRECT' THEN 'basicInfo.politicalStatus' "
    "ELSE 'basicInfo.remarks' END"
)


def return_item_sql(reason: str) -> str:
    return (
        f"json_build_object('field', {REASON_FIELD_SQL.format(r=reason)}, 'reasonCode', {reason}, "
        f"'note', CASE WHEN {reason} = 'OTHER' THEN '请按要求补充说明。' END)"
    )


def return_items_sql(a: str, b: str) -> str:
    first = f'CASE WHEN {a} COLLATE "C" < {b} THEN {a} ELSE {b} END'
    second = f'CASE WHEN {a} COLLATE "C" < {b} THEN {b} ELSE {a} END'
    return (
        f"CASE WHEN {b} IS NULL OR {b} = {a} THEN json_build_array({return_item_sql(a)}) "
        f"ELSE json_build_array({return_item_sql(first)}, {return_item_sql(second)}) END"
    )


# (alias, code list, code): the coded answers a snapshot shows with their names
SNAPSHOT_NAMES = (
    ("n_idt", "id_document_type", "t.id_type"),
    ("n_gen", "gender", "t.gender"),
    ("n_cty", "country_region", "t.country"),
    ("n_eth", "ethnic_group", "t.ethnic"),
    ("n_pol", "political_status", "t.political"),
    ("n_fl", "education_level", "split_part(t.edu, '|', 1)"),
    ("n_fd", "degree", "split_part(t.edu, '|', 2)"),
    ("n_pl", "education_level", "split_part(t.pt, '|', 1)"),
    ("n_pd", "degree", "split_part(t.pt, '|', 2)"),
    ("n_ql", "qualification_level", "t.qual"),
    ("n_qt", "qualification_type", "'01'"),
    ("n_qm", "qualification_acquisition_method", "'01'"),
    ("n_ap", "appointed_technical_position", "'0' || (t.qual::int + 1)::text"),
    ("n_et", "unit_economic_type", "t.econ"),
    ("n_wp", "accounting_work_position", "t.post"),
    ("n_at", "accounting_admin_post", "t.title"),
)


def code_name_sql(alias: str, reference: ReferenceData) -> str:
    """SQL: ``{code, name}`` of a code as JSON, a constant picked by a CASE over the code list
    (null for no code), rather than an object built for every row."""
    list_name, code = next((n, c) for a, n, c in SNAPSHOT_NAMES if a == alias)

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    whens = " ".join(
        f"WHEN {literal(o.code)} THEN "
        f"{literal(json.dumps({'code': o.code, 'name': o.name}, ensure_ascii=False))}::json"
        for o in reference.options(list_name)
    )
    return f"CASE {code} {whens} END"


# Plan parameters: $1 count, $2 person id base, $3 run tag, $4 now, $5 days, $6 county list,
# then each distribution as (values, bounds) from $7 on, in this order:
PLAN_DISTRIBUTIONS = (
    "id_type",
    "county",
    "econ",
    "edu",
    "pt",
    "qual",
    "political",
    "ethnic",
    "post",
    "title",
    "phone",
    "school",
    "major",
    "word",
    "suffix",
    "reason",
)


def plan_pick(name: str) -> str:
    return pick(7 + 2 * PLAN_DISTRIBUTIONS.index(name))


def renumber(statement: str, used: tuple[int, ...]) -> str:
    """Number a statement's parameters $1.. in the order listed (asyncpg wants them dense)."""
    for new, old in sorted(enumerate(used, start=1), key=lambda pair: -pair[1]):
        statement = re.sub(rf"\${old}(?!\d)", f"$~{new}", statement)
    return statement.replace("$~", "$")
