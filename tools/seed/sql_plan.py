"""The PostgreSQL generator's plan: the timeline of every registration in one statement
(a temporary table ``_seed_tl``), drawn as :class:`tools.seed.synth.Synth` draws it.
"""

# ruff: noqa: S608 - the SQL below is built only from this package's constants

from __future__ import annotations

from models.reference import ReferenceData
from tools.seed.population import BIRTH_DAYS, BIRTH_FIRST, GIVEN, PERMUTE, SURNAMES
from tools.seed.sql_parts import (
    after_sql,
    hours_sql,
    org_code_check_sql,
    plan_pick,
    resident_id_sql,
    return_items_sql,
    uscc_check_sql,
)


def plan_statements(reference: ReferenceData) -> list[str]:
    """The timeline of every registration, in temporary tables, ending in ``_seed_tl``."""
    year_now = "extract(year FROM $4::timestamptz)::int - 1"
    plan = f"""
        CREATE TEMP TABLE _seed_plan ON COMMIT DROP AS
        SELECT q.*,
               CASE q.id_type
                   WHEN '01' THEN {resident_id_sql("q.body")}
                   WHEN '02' THEN 'H' || lpad((q.pid % 100000000)::text, 8, '0')
                   WHEN '03' THEN lpad((q.pid % 100000000)::text, 8, '0')
                   WHEN '04' THEN 'E' || lpad((q.pid % 100000000)::text, 8, '0')
                   ELSE 'USA' || lpad((q.pid % 1000000000000)::text, 12, '0')
               END AS id_number,
               CASE q.id_type WHEN '02' THEN 'HKG' WHEN '03' THEN 'TWN' ELSE 'CHN' END
                   AS country,
               make_date(least(extract(year FROM q.birth)::int + 19 + floor(random() * 8)::int,
                               {year_now}), 1 + floor(random() * 12)::int, 1) AS start_work,
               make_date(least(extract(year FROM q.birth)::int + 22, {year_now}), 6, 30)
                   AS graduated,
               make_date(least(extract(year FROM q.birth)::int + 23 + floor(random() * 8)::int,
                               {year_now}), 9, 20) AS acquired,
               CASE WHEN q.started_raw < $4 THEN q.started_raw
                    ELSE $4 - make_interval(mins => 1 + floor(random() * 600)::int)
               END AS started
        FROM (
            SELECT g.n, g.pid, md5($3 || ':' || g.n) AS rid,
                   ($6::text[])[1 + (g.slot / 1000 / {BIRTH_DAYS})::int]
                       || to_char(date '{BIRTH_FIRST.isoformat()}'
                                  + ((g.slot / 1000) % {BIRTH_DAYS})::int, 'YYYYMMDD')
                       || lpad((g.slot % 1000)::text, 3, '0') AS body,
                   date '{BIRTH_FIRST.isoformat()}' + ((g.slot / 1000) % {BIRTH_DAYS})::int
                       AS birth,
                   CASE WHEN g.slot % 2 = 1 THEN '1' ELSE '2' END AS gender,
                   {plan_pick("id_type")} AS id_type, {plan_pick("county")} AS county,
                   random() >= 0.06 AS work, {plan_pick("econ")} AS econ, {plan_pick("edu")} AS edu,
                   CASE WHEN random() < 0.2 THEN {plan_pick("pt")} END AS pt,
                   nullif({plan_pick("qual")}, '') AS qual, {plan_pick("political")} AS political,
                   CASE WHEN random() < 0.97 THEN '01' ELSE {plan_pick("ethnic")} END AS ethnic,
                   {plan_pick("post")} AS post, {plan_pick("title")} AS title,
                   substr('{SURNAMES}', 1 + floor(random() * {len(SURNAMES)})::int, 1)
                       || substr('{GIVEN}', 1 + floor(random() * {len(GIVEN)})::int, 1)
                       || CASE WHEN random() < 0.67
                               THEN substr('{GIVEN}', 1 + floor(random() * {len(GIVEN)})::int, 1)
                               ELSE '' END AS name,
                   '1' || {plan_pick("phone")} || lpad(floor(random() * 100000000)::text, 8, '0')
                       AS phone,
                   {plan_pick("school")} AS school, {plan_pick("major")} AS major, {plan_pick("word")} AS word,
                   {plan_pick("suffix")} AS suffix,
                   upper(substr(md5(random()::text), 1, 12)) AS verification,
                   lpad(floor(random() * 100000000)::text, 8, '0') AS org,
                   floor(random() * 999)::int + 1 AS house,
                   random() < 0.06 AS abandoned, random() AS dw_u, {hours_sql(72, 1.0)} AS h_dw,
                   1 + floor(random() * 5)::int AS partial,
                   (($4::timestamptz AT TIME ZONE 'UTC') + interval '8 hours')::date
                       - floor(random() * $5)::int AS day0,
                   random() AS u_weekend, 480 + floor(random() * 841)::int AS day_minute,
                   {hours_sql(5, 1.2)} AS h_s1, {hours_sql(26, 0.9)} AS h_d1, {hours_sql(30, 1.0)} AS h_n1,
                   {hours_sql(26, 0.9)} AS h_d2, {hours_sql(30, 1.0)} AS h_n2, {hours_sql(26, 0.9)} AS h_d3,
                   random() AS ret_u1, random() AS ret_u2, random() AS f1, random() AS f2,
                   random() AS w_u1, random() AS w_u2, random() AS w_u3,
                   random() AS wf1, random() AS wf2, random() AS wf3,
                   {plan_pick("reason")} AS ra1,
                   CASE WHEN random() < 0.3333 THEN {plan_pick("reason")} END AS rb1,
                   {plan_pick("reason")} AS ra2,
                   CASE WHEN random() < 0.3333 THEN {plan_pick("reason")} END AS rb2,
                   random() AS mv_u1, random() AS mv_p1, random() AS mv_u2, random() AS mv_p2
            FROM (
                SELECT n, $2::bigint + n AS pid,
                       (($2::bigint + n) * {PERMUTE}) % (cardinality($6::text[])::bigint
                           * {BIRTH_DAYS} * 1000) AS slot
                FROM generate_series(1, $1::int) AS n
                OFFSET 0
            ) g
            OFFSET 0
        ) q0
        CROSS JOIN LATERAL (
            SELECT q0.*,
                   (CASE WHEN extract(isodow FROM q0.day0) >= 6 AND q0.u_weekend < 0.65
                         THEN q0.day0 - (extract(isodow FROM q0.day0)::int - 5)
                         ELSE q0.day0 END + make_interval(mins => q0.day_minute)
                    - interval '8 hours') AT TIME ZONE 'UTC' AS started_raw
            OFFSET 0
        ) q"""
    move = (
        "CASE WHEN {u} < 0.7 THEN c.codes[1 + floor({p} * cardinality(c.codes))::int] "
        "ELSE ($6::text[])[1 + floor({p} * cardinality($6::text[]))::int] END"
    )
    times = f"""
        CREATE TEMP TABLE _seed_times ON COMMIT DROP AS
        SELECT p.*,
               {after_sql("p.started", "p.h_s1")} AS s1,
               {after_sql("p.started", "p.h_s1 + p.h_d1")} AS d1,
               {after_sql("p.started", "p.h_s1 + p.h_d1 + p.h_n1")} AS s2,
               {after_sql("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2")} AS d2,
               {after_sql("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 + p.h_n2")} AS s3,
               {after_sql("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 + p.h_n2 + p.h_d3")} AS d3,
               {after_sql("p.started", "p.h_s1 + p.h_d1 * p.wf1")} AS w1,
               {after_sql("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 * p.wf2")} AS w2,
               {after_sql("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 + p.h_n2 + p.h_d3 * p.wf3")} AS w3,
               {after_sql("p.started", "p.h_dw")} AS dw_at,
               p.ret_u1 < 0.18 AS ret1, p.ret_u2 < 0.06 AS ret2,
               p.w_u1 < 0.012 AS wq1, p.w_u2 < 0.012 AS wq2, p.w_u3 < 0.012 AS wq3,
               p.county AS dep1,
               CASE WHEN 'WRONG_DEPARTMENT' IN (p.ra1, coalesce(p.rb1, ''))
                    THEN {move.format(u="p.mv_u1", p="p.mv_p1")} ELSE p.county END AS dep2
        FROM _seed_plan p JOIN _seed_city c ON c.city = substr(p.county, 1, 4) || '00'"""
    rounds = f"""
        CREATE TEMP TABLE _seed_rounds ON COMMIT DROP AS
        SELECT t.*,
               CASE WHEN 'WRONG_DEPARTMENT' IN (t.ra2, coalesce(t.rb2, ''))
                    THEN {move.format(u="t.mv_u2", p="t.mv_p2")} ELSE t.dep2 END AS dep3,
               CASE WHEN t.abandoned OR t.s1 >= $4 THEN 0
                    WHEN (t.wq1 AND t.w1 < $4) OR t.d1 >= $4 OR NOT t.ret1 OR t.s2 >= $4
                         OR t.f1 < 0.13 THEN 1
                    WHEN (t.wq2 AND t.w2 < $4) OR t.d2 >= $4 OR NOT t.ret2 OR t.s3 >= $4
                         OR t.f2 < 0.13 THEN 2
                    ELSE 3 END AS k
        FROM _seed_times t JOIN _seed_city c ON c.city = substr(t.dep2, 1, 4) || '00'"""
    final = f"""
        CREATE TEMP TABLE _seed_tl ON COMMIT DROP AS
        SELECT f.*,
               CASE WHEN f.k = 0 THEN
                        CASE WHEN f.abandoned AND f.dw_u < 0.1 AND f.dw_at < $4 THEN 'WITHDRAWN'
                             ELSE 'DRAFT' END
                    WHEN f.waited_out THEN 'WITHDRAWN'
                    WHEN NOT f.decided THEN 'SUBMITTED'
                    WHEN NOT f.returned THEN 'APPROVED'
                    WHEN f.gave_up THEN 'WITHDRAWN'
                    ELSE 'RETURNED' END AS status,
               CASE WHEN f.k >= 1 THEN 6 ELSE f.partial END AS filled,
               {return_items_sql("f.ra1", "f.rb1")} AS items1,
               {return_items_sql("f.ra2", "f.rb2")} AS items2,
               c.name AS place, c.bureau, coalesce(c.postal, '310000') AS postal,
               v.uscc_body || {uscc_check_sql("v.uscc_body")} AS credit_code,
               c.name || f.word || f.suffix AS unit_name,
               c.name || '人民路' || f.house || '号' AS address
        FROM (
            SELECT r.*,
                   r.k >= 1 AND NOT r.waited_out AND r.d_k < $4 AS decided,
                   r.k >= 1 AND NOT r.waited_out AND r.d_k < $4 AND r.ret_k AS returned,
                   r.k >= 1 AND NOT r.waited_out AND r.d_k < $4 AND r.ret_k AND r.next_k < $4
                       AND r.f_k >= 0.08 AND r.f_k < 0.13 AS gave_up,
                   CASE WHEN r.k >= 1 THEN r.dep_k ELSE r.county END AS dep_now
            FROM (
                SELECT r0.*,
                       CASE r0.k WHEN 1 THEN r0.s1 WHEN 2 THEN r0.s2 WHEN 3 THEN r0.s3 END AS s_k,
                       CASE r0.k WHEN 1 THEN r0.d1 WHEN 2 THEN r0.d2 WHEN 3 THEN r0.d3 END AS d_k,
                       CASE r0.k WHEN 1 THEN r0.s2 WHEN 2 THEN r0.s3 END AS next_k,
                       CASE r0.k WHEN 1 THEN r0.f1 WHEN 2 THEN r0.f2 ELSE 1 END AS f_k,
                       CASE r0.k WHEN 1 THEN r0.ret1 WHEN 2 THEN r0.ret2 ELSE false END AS ret_k,
                       CASE r0.k WHEN 1 THEN r0.w1 WHEN 2 THEN r0.w2 WHEN 3 THEN r0.w3 END AS w_k,
                       CASE r0.k WHEN 1 THEN r0.dep1 WHEN 2 THEN r0.dep2 WHEN 3 THEN r0.dep3 END
                           AS dep_k,
                       CASE r0.k WHEN 1 THEN r0.wq1 AND r0.w1 < $4 WHEN 2 THEN r0.wq2 AND r0.w2 < $4
                                 WHEN 3 THEN r0.wq3 AND r0.w3 < $4 ELSE false END AS waited_out
                FROM _seed_rounds r0
                OFFSET 0
            ) r
            OFFSET 0
        ) f
        JOIN _seed_county c ON c.code = f.dep_now
        CROSS JOIN LATERAL (
            SELECT '91' || f.dep_now || f.org || {org_code_check_sql("f.org")} AS uscc_body
            OFFSET 0
        ) v"""

    # one statement: each stage a fenced subquery (OFFSET 0: computed once per row)
    def inner(statement: str) -> str:
        return statement.split(" AS\n", 1)[1] + " OFFSET 0"

    timeline = (
        final.replace("FROM _seed_rounds r0", f"FROM ({inner(rounds)}) r0")
        .replace("FROM _seed_times t JOIN", f"FROM ({inner(times)}) t JOIN")
        .replace("FROM _seed_plan p JOIN", f"FROM ({inner(plan)}) p JOIN")
    )
    return [timeline]
