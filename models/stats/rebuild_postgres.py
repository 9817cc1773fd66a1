"""The set-based recount on PostgreSQL: the same definitions as
:func:`models.stats.rules.add_standing` and :func:`models.stats.rules.add_activity`, in SQL.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from models.reference import ReferenceData
from models.stats.rules import TURNAROUND_OPEN_BUCKET, TURNAROUND_SEGMENTS


def _turnaround_sql(hours: str) -> str:
    """SQL for :func:`turnaround_bucket` of the numeric expression ``hours``."""
    cases = [f"WHEN {hours} <= 0 THEN 0"]
    cases += [
        f"WHEN {hours} < {end} THEN {start} + floor(({hours} - {start}) / {width})::int * {width}"
        for start, end, width in TURNAROUND_SEGMENTS
    ]
    return f"CASE {' '.join(cases)} ELSE {TURNAROUND_OPEN_BUCKET} END"


def _highest_sql(full: str, part: str, order: str) -> str:
    """SQL for :func:`highest` of two codes, ``order`` being the code list as an array."""
    rank_part = f"(coalesce(array_position({order}, {part}), 1000000), {part})"
    rank_full = f"(coalesce(array_position({order}, {full}), 1000000), {full})"
    return (
        f"coalesce(CASE WHEN {part} IS NOT NULL AND ({full} IS NULL OR {rank_part} < {rank_full})"
        f" THEN {part} ELSE {full} END, 'NONE')"
    )


_CHINA_DAY = "((({0}) AT TIME ZONE 'UTC') + interval '8 hours')::date"
_SCOPES = (
    "LEFT JOIN _stats_dept dc ON dc.code = {0}.department "
    "CROSS JOIN LATERAL (VALUES ('P'), ('C' || dc.city), ('D' || {0}.department)) AS sc(scope)"
)


def _postgres_rebuild_statements() -> list[str]:
    """The set-based recount: the same definitions as add_standing and add_activity.

    Only module constants are formatted into the SQL; the code lists are bound parameters.
    """
    levels, degrees = "CAST(:levels AS text[])", "CAST(:degrees AS text[])"
    groups = f"""
        CREATE TEMP TABLE _stats_groups ON COMMIT DROP AS
        WITH history AS (
            SELECT registration_id, max(id) AS last_id,
                   bool_or(to_status = 'SUBMITTED') AS submitted
            FROM registration_event GROUP BY registration_id
        ), latest AS (
            SELECT h.registration_id, h.submitted, e.department_code
            FROM history h JOIN registration_event e ON e.id = h.last_id
        ), standing AS (
            SELECT r.status, CASE WHEN l.submitted THEN l.department_code END AS department,
                   r.status IN ('SUBMITTED', 'APPROVED') AS counted,
                   b.id_type, ft.level AS fl, ft.degree AS fd, pt.level AS pl, pt.degree AS pd,
                   q.level AS ql, w.economic_type AS et,
                   CASE WHEN r.status = 'SUBMITTED' THEN {_CHINA_DAY.format("r.submitted_at")}
                   END AS waiting
            FROM registration r
            LEFT JOIN latest l ON l.registration_id = r.id
            LEFT JOIN basic_info_section b ON b.registration_id = r.id
            LEFT JOIN education_section ft ON ft.registration_id = r.id AND ft.kind = 'FULL_TIME'
            LEFT JOIN education_section pt ON pt.registration_id = r.id AND pt.kind = 'PART_TIME'
            LEFT JOIN qualification_section q ON q.registration_id = r.id
            LEFT JOIN work_unit_section w ON w.registration_id = r.id
        )
        SELECT status, department, waiting,
               CASE WHEN counted THEN coalesce(nullif(id_type, ''), 'NONE') END AS id_type,
               CASE WHEN counted THEN {_highest_sql("fl", "pl", levels)} END AS education_level,
               CASE WHEN counted THEN {_highest_sql("fd", "pd", degrees)} END AS degree,
               CASE WHEN counted THEN coalesce(nullif(ql, ''), 'NONE') END AS qualification_level,
               CASE WHEN counted THEN coalesce(nullif(et, ''), 'NONE') END AS economic_type,
               count(*) AS n
        FROM standing GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""  # noqa: S608 - only our constants
    counters = f"""
        INSERT INTO stats_counter (scope, dimension, code, n)
        SELECT sc.scope, d.dimension, d.code, sum(g.n)
        FROM _stats_groups g {_SCOPES.format("g")}
        CROSS JOIN LATERAL (VALUES
            ('status', g.status::text), ('department', g.department),
            ('city', CASE WHEN g.department IS NOT NULL THEN dc.city END),
            ('id_type', g.id_type), ('education_level', g.education_level),
            ('degree', g.degree), ('qualification_level', g.qualification_level),
            ('economic_type', g.economic_type)
        ) AS d(dimension, code)
        WHERE sc.scope IS NOT NULL AND d.code IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""  # noqa: S608 - only our constants
    waiting = f"""
        INSERT INTO stats_daily (scope, metric, day, code, n)
        SELECT sc.scope, 'waiting', g.waiting, '', sum(g.n)
        FROM _stats_groups g {_SCOPES.format("g")}
        WHERE g.waiting IS NOT NULL AND sc.scope IS NOT NULL
        GROUP BY 1, 3"""  # noqa: S608 - only our constants
    hours = "extract(epoch FROM e.occurred_at - sub.submitted_at)::float8 / 3600"
    events = f"""
        CREATE TEMP TABLE _stats_events ON COMMIT DROP AS
        SELECT e.to_status, e.from_status IS NOT NULL AND e.from_status <> 'DRAFT' AS later,
               e.department_code AS department, {_CHINA_DAY.format("e.occurred_at")} AS day,
               sub.sequence = 1 AS first,
               CASE WHEN sub.submitted_at IS NOT NULL THEN {_turnaround_sql(hours)} END AS bucket,
               count(*) AS n
        FROM registration_event e
        LEFT JOIN (
            SELECT DISTINCT ON (d.id) d.id, s.sequence, s.submitted_at
            FROM registration_event d
            JOIN submission s
              ON s.registration_id = d.registration_id AND s.submitted_at <= d.occurred_at
            WHERE d.to_status IN ('APPROVED', 'RETURNED')
            ORDER BY d.id, s.sequence DESC
        ) sub ON sub.id = e.id
        WHERE e.to_status IN ('SUBMITTED', 'WITHDRAWN', 'APPROVED', 'RETURNED')
        GROUP BY 1, 2, 3, 4, 5, 6"""  # noqa: S608 - only our constants
    decision = "to_status IN ('APPROVED', 'RETURNED')"
    metrics = [
        ("submitted", "''", "to_status = 'SUBMITTED'"),
        ("withdrawn", "''", "to_status = 'WITHDRAWN' AND later"),
        ("decided", "''", decision),
        ("approved", "''", "to_status = 'APPROVED'"),
        ("returned", "''", "to_status = 'RETURNED'"),
        ("first_decided", "''", f"{decision} AND first"),
        ("first_pass", "''", "to_status = 'APPROVED' AND first"),
        ("turnaround", "bucket::text", f"{decision} AND bucket IS NOT NULL"),
    ]
    union = " UNION ALL ".join(
        f"SELECT '{metric}' AS metric, {code} AS code, department, day, n "  # noqa: S608
        f"FROM _stats_events WHERE {where}"
        for metric, code, where in metrics
    )
    by_department = f"""
        CREATE TEMP TABLE _stats_by_department ON COMMIT DROP AS
        SELECT department, metric, day, code, sum(n) AS n
        FROM ({union}) m
        GROUP BY 1, 2, 3, 4"""  # noqa: S608 - only our constants
    # each department's rows, then summed up to its city and to the province
    activity = """
        INSERT INTO stats_daily (scope, metric, day, code, n)
        SELECT * FROM (
            SELECT 'D' || d.department, d.metric, d.day, d.code, d.n
            FROM _stats_by_department d WHERE d.department IS NOT NULL
            UNION ALL
            SELECT 'C' || dc.city, d.metric, d.day, d.code, sum(d.n)
            FROM _stats_by_department d JOIN _stats_dept dc ON dc.code = d.department
            WHERE dc.city IS NOT NULL
            GROUP BY dc.city, d.metric, d.day, d.code
            UNION ALL
            SELECT 'P', d.metric, d.day, d.code, sum(d.n)
            FROM _stats_by_department d
            GROUP BY d.metric, d.day, d.code
        ) a
        ORDER BY 1, 2, 3, 4"""
    reasons = f"""
        INSERT INTO stats_daily (scope, metric, day, code, n)
        SELECT sc.scope, 'return_reason', a.day, left(a.reason, 32), count(*)
        FROM (
            SELECT DISTINCT e.id, e.department_code AS department,
                   {_CHINA_DAY.format("e.occurred_at")} AS day, item ->> 'reasonCode' AS reason
            FROM registration_event e CROSS JOIN LATERAL json_array_elements(e.items) AS item
            WHERE e.to_status = 'RETURNED' AND coalesce(item ->> 'reasonCode', '') <> ''
        ) a {_SCOPES.format("a")}
        WHERE sc.scope IS NOT NULL
        GROUP BY 1, 3, 4 ORDER BY 1, 3, 4"""  # noqa: S608 - only our constants
    return [groups, counters, waiting, events, by_department, activity, reasons]


async def recount_postgres(
    connection: AsyncConnection, reference: ReferenceData
) -> tuple[int, int, int]:
    """Fill the emptied counter tables by set-based SQL; returns (registrations, counter rows,
    day rows)."""
    await connection.execute(text("SET LOCAL work_mem = '256MB'"))
    await connection.execute(text("SET LOCAL jit = off"))  # short queries: compiling costs more
    await connection.execute(
        text(
            "CREATE TEMP TABLE _stats_dept (code varchar(6) PRIMARY KEY, city varchar(6))"
            " ON COMMIT DROP"
        )
    )
    await connection.execute(
        text("INSERT INTO _stats_dept (code, city) VALUES (:code, :city)"),
        [{"code": d.code, "city": d.city_code} for d in reference.divisions.values()],
    )
    params = {
        "levels": [o.code for o in reference.options("education_level")],
        "degrees": [o.code for o in reference.options("degree")],
    }
    for statement in _postgres_rebuild_statements():
        await connection.execute(text(statement), params if ":levels" in statement else {})
    registrations = (
        await connection.execute(text("SELECT coalesce(sum(n), 0) FROM _stats_groups"))
    ).scalar_one()
    counter_rows = (
        await connection.execute(text("SELECT count(*) FROM stats_counter"))
    ).scalar_one()
    daily_rows = (await connection.execute(text("SELECT count(*) FROM stats_daily"))).scalar_one()
    await connection.execute(
        text("DROP TABLE _stats_groups, _stats_events, _stats_by_department, _stats_dept")
    )
    await connection.execute(text("ANALYZE stats_counter, stats_daily"))
    return int(registrations), int(counter_rows), int(daily_rows)
