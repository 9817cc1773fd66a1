"""The PostgreSQL generator's rows: every table filled from the timeline ``_seed_tl``."""

# ruff: noqa: S608 - the SQL below is built only from this package's constants

from __future__ import annotations

from models.reference import ReferenceData
from tools.seed.sql_parts import code_name_sql


def row_statements(reference: ReferenceData) -> list[tuple[str, tuple[int, ...]]]:
    """Rows for every table from the timeline, each in primary-key order. Parameters:
    $1 now, $2 people's created_at, $3..$6 the id bases (submission, event, decision, item),
    $7 and $8 the HMAC inner and outer keys of the person key."""

    def name(alias: str) -> str:
        return code_name_sql(alias, reference)

    saved = "t.started + interval '20 minutes'"
    status_at = (
        "greatest(t.started, t.s_k, CASE WHEN t.decided THEN t.d_k END, "
        "CASE WHEN t.waited_out THEN t.w_k END, CASE WHEN t.gave_up THEN t.next_k END, "
        "CASE WHEN t.k = 0 AND t.status = 'WITHDRAWN' THEN t.dw_at END)"
    )
    decided_at = "CASE WHEN t.decided THEN t.d_k WHEN t.k = 2 THEN t.d1 WHEN t.k = 3 THEN t.d2 END"
    reopened = (
        "CASE WHEN t.status = 'RETURNED' THEN (SELECT json_agg(i ->> 'field') FROM "
        "json_array_elements(CASE t.k WHEN 1 THEN t.items1 ELSE t.items2 END) AS i) "
        "ELSE '[]'::json END"
    )
    version = (
        "CASE WHEN t.k = 0 THEN 1 + t.filled + (t.status = 'WITHDRAWN')::int "
        "ELSE 7 + 3 * t.k + t.decided::int + (t.waited_out OR t.gave_up)::int END"
    )
    rule = "CASE WHEN t.work THEN 'OFFICE_DIVISION' ELSE 'RESIDENCE_DIVISION' END"
    statements: list[tuple[str, tuple[int, ...]]] = [
        (
            """INSERT INTO person (id, person_key, name, id_type, id_number, phone, created_at,
                   updated_at)
               SELECT t.pid,
                      encode(sha256($8::bytea || sha256($7::bytea
                          || convert_to(t.id_type || ':' || upper(t.id_number), 'UTF8'))), 'hex'),
                      t.name, t.id_type, t.id_number, t.phone, $2, $2
               FROM _seed_tl t ORDER BY t.pid""",
            (2, 7, 8),
        ),
        (
            f"""INSERT INTO registration (id, person_id, status, version, department_code,
                   department_rule, city_code, education_saved_at, qualification_saved_at,
                   reopened, created_at, updated_at, submitted_at, decided_at)
               SELECT t.rid, t.pid, t.status, {version},
                      CASE WHEN t.filled >= 3 THEN t.dep_now END,
                      CASE WHEN t.filled >= 3 THEN {rule} END,
                      CASE WHEN t.filled >= 3 THEN substr(t.dep_now, 1, 4) || '00' END,
                      CASE WHEN t.filled >= 4 THEN {saved} END,
                      CASE WHEN t.filled >= 5 THEN {saved} END,
                      {reopened}, t.started, {status_at}, t.s_k, {decided_at}
               FROM _seed_tl t ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO notice_section (registration_id, eligibility, acknowledged_at)
               SELECT t.rid,
                      json_build_array(CASE WHEN t.work THEN 'WORK_UNIT' ELSE 'RESIDENCE' END),
                      t.started
               FROM _seed_tl t ORDER BY t.rid""",
            (),
        ),
        (
            f"""INSERT INTO basic_info_section (registration_id, name, phone, id_type, id_number,
                   gender, birth_date, country_or_region, ethnic_group, political_status,
                   remarks, saved_at)
               SELECT t.rid, t.name, t.phone, t.id_type, t.id_number, t.gender, t.birth,
                      t.country, t.ethnic, t.political, NULL,
                      CASE WHEN t.filled >= 2 THEN {saved} END
               FROM _seed_tl t ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO work_unit_section (registration_id, credit_code, unit_name,
                   unit_name_source, economic_type, office_division_code, postal_code,
                   accounting_start_date, accounting_post, administrative_title)
               SELECT t.rid, t.credit_code, t.unit_name, 'MANUAL', t.econ, t.dep_now, t.postal,
                      t.start_work, t.post, t.title
               FROM _seed_tl t WHERE t.filled >= 3 AND t.work ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO residence_section (registration_id, division_code, address,
                   postal_code)
               SELECT t.rid, t.dep_now, t.address, t.postal
               FROM _seed_tl t WHERE t.filled >= 3 AND NOT t.work ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO education_section (registration_id, kind, level, degree,
                   verification_number, major, school, graduation_date)
               SELECT * FROM (
                   SELECT t.rid, 'FULL_TIME', split_part(t.edu, '|', 1),
                          split_part(t.edu, '|', 2), t.verification, t.major, t.school,
                          t.graduated
                   FROM _seed_tl t WHERE t.filled >= 4
                   UNION ALL
                   SELECT t.rid, 'PART_TIME', split_part(t.pt, '|', 1), split_part(t.pt, '|', 2),
                          NULL, '工商管理', t.school,
                          make_date(least(extract(year FROM t.graduated)::int + 5,
                                          extract(year FROM $1::timestamptz)::int - 1), 1, 15)
                   FROM _seed_tl t WHERE t.filled >= 4 AND t.pt IS NOT NULL
               ) e ORDER BY 1, 2""",
            (1,),
        ),
        (
            """INSERT INTO qualification_section (registration_id, level, type,
                   acquisition_method, acquired_on, appointed_post, appointed_on,
                   certificate_number)
               SELECT t.rid, t.qual, '01', '01', t.acquired, '0' || (t.qual::int + 1)::text,
                      t.acquired,
                      'Z' || extract(year FROM t.acquired) || '33' || lpad(t.house::text, 7, '0')
               FROM _seed_tl t WHERE t.filled >= 5 AND t.qual IS NOT NULL ORDER BY t.rid""",
            (),
        ),
        # submissions: one per round that happened, numbered in time order
        (
            """CREATE TEMP TABLE _seed_sub ON COMMIT DROP AS
               SELECT $3::bigint + row_number() OVER (ORDER BY x.at, x.rid) AS id, x.*
               FROM (
                   SELECT t.rid, j.j,
                          CASE j.j WHEN 1 THEN t.s1 WHEN 2 THEN t.s2 ELSE t.s3 END AS at,
                          CASE j.j WHEN 1 THEN t.dep1 WHEN 2 THEN t.dep2 ELSE t.dep3 END AS dep
                   FROM _seed_tl t CROSS JOIN LATERAL generate_series(1, t.k) AS j(j)
               ) x""",
            (3,),
        ),
        (
            f"""INSERT INTO submission (id, registration_id, sequence, idempotency_key,
                   based_on_version, snapshot, declaration, submitted_at)
               SELECT s.id, s.rid, s.j, NULL, 7 + 3 * (s.j - 1), json_build_object(
                   'notice', json_build_object('eligibility', json_build_array(
                       CASE WHEN t.work THEN 'WORK_UNIT' ELSE 'RESIDENCE' END)),
                   'basicInfo', json_build_object(
                       'name', t.name, 'phone', t.phone, 'idType', {name("n_idt")},
                       'idNumber', t.id_number, 'gender', {name("n_gen")},
                       'birthDate', t.birth, 'countryOrRegion', {name("n_cty")},
                       'ethnicGroup', {name("n_eth")}, 'politicalStatus', {name("n_pol")},
                       'remarks', NULL),
                   'workUnit', CASE WHEN t.work THEN json_build_object(
                       'creditCode', t.credit_code, 'unitName', t.unit_name,
                       'economicType', {name("n_et")}, 'officeDivisionCode', s.dep,
                       'postalCode', t.postal, 'accountingStartDate', t.start_work,
                       'accountingPost', {name("n_wp")},
                       'administrativeTitle', {name("n_at")}) END,
                   'residence', CASE WHEN NOT t.work THEN json_build_object(
                       'divisionCode', s.dep, 'address', t.address, 'postalCode', t.postal) END,
                   'education', json_build_object(
                       'fullTime', json_build_object(
                           'level', {name("n_fl")}, 'degree', {name("n_fd")},
                           'verificationNumber', t.verification, 'major', t.major,
                           'school', t.school, 'graduationDate', t.graduated),
                       'partTime', CASE WHEN t.pt IS NOT NULL THEN json_build_object(
                           'level', {name("n_pl")}, 'degree', {name("n_pd")},
                           'verificationNumber', NULL, 'major', '工商管理', 'school', t.school,
                           'graduationDate', NULL) END),
                   'qualification', CASE WHEN t.qual IS NOT NULL THEN json_build_object(
                       'level', {name("n_ql")}, 'type', {name("n_qt")},
                       'acquisitionMethod', {name("n_qm")}, 'acquiredOn', t.acquired,
                       'appointedPost', {name("n_ap")}, 'appointedOn', t.acquired,
                       'certificateNumber', NULL) END,
                   'accountingDepartment', json_build_object('code', s.dep, 'name', c.bureau,
                       'rule', CASE WHEN t.work THEN 'OFFICE_DIVISION'
                                    ELSE 'RESIDENCE_DIVISION' END),
                   'attachments', json_build_object()),
                   '同意以上资料填写无误', s.at
               FROM _seed_sub s
               JOIN _seed_tl t ON t.rid = s.rid
               JOIN _seed_county c ON c.code = s.dep""",
            (),
        ),
    ]
    withdrawn_draft = "t.k = 0 AND t.status = 'WITHDRAWN'"

    def decision(j: int) -> tuple[str, ...]:
        returned = f"t.k > {j} OR t.returned"
        kind = f"CASE WHEN {returned} THEN 'RETURNED' ELSE 'APPROVED' END"
        return (
            str(4 * j),
            str(j),
            kind,
            "'SUBMITTED'",
            kind,
            "'STAFF'",
            "NULL",
            f"CASE WHEN {returned} THEN t.items{j} END",
            f"t.dep{j}",
            f"t.d{j}",
            f"t.k > {j} OR (t.k = {j} AND t.decided)",
        )

    # (order, round, kind, from, to, actor kind, actor id, items, department, at, happened)
    rows: list[tuple[str, ...]] = [
        (
            "0",
            "0",
            "'STARTED'",
            "NULL::text",
            "'DRAFT'",
            "'APPLICANT'",
            "t.pid",
            "NULL::json",
            "NULL::text",
            "t.started",
            "true",
        ),
        (
            "1",
            "0",
            "'WITHDRAWN'",
            "'DRAFT'",
            "'WITHDRAWN'",
            "'APPLICANT'",
            "t.pid",
            "NULL",
            "CASE WHEN t.filled >= 3 THEN t.dep_now END",
            "t.dw_at",
            withdrawn_draft,
        ),
    ]
    for j in (1, 2, 3):
        first, before = ("'SUBMITTED'", "'DRAFT'") if j == 1 else ("'RESUBMITTED'", "'RETURNED'")
        rows += [
            (
                str(4 * j - 2),
                str(j),
                first,
                before,
                "'SUBMITTED'",
                "'APPLICANT'",
                "t.pid",
                "NULL",
                f"t.dep{j}",
                f"t.s{j}",
                f"t.k >= {j}",
            ),
            (
                str(4 * j - 1),
                str(j),
                "'WITHDRAWN'",
                "'SUBMITTED'",
                "'WITHDRAWN'",
                "'APPLICANT'",
                "t.pid",
                "NULL",
                f"t.dep{j}",
                f"t.w{j}",
                f"t.k = {j} AND t.waited_out",
            ),
        ]
        if j < 3:
            rows += [
                decision(j),
                (
                    str(4 * j + 1),
                    str(j),
                    "'WITHDRAWN'",
                    "'RETURNED'",
                    "'WITHDRAWN'",
                    "'APPLICANT'",
                    "t.pid",
                    "NULL",
                    f"t.dep{j}",
                    f"t.s{j + 1}",
                    f"t.k = {j} AND t.gave_up",
                ),
            ]
    rows.append(
        (
            "12",
            "3",
            "'APPROVED'",
            "'SUBMITTED'",
            "'APPROVED'",
            "'STAFF'",
            "NULL",
            "NULL",
            "t.dep3",
            "t.d3",
            "t.k = 3 AND t.decided",
        )
    )
    columns = (
        "ord",
        "j",
        "kind",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_id",
        "items",
        "dep",
        "at",
    )
    union = " UNION ALL ".join(
        "SELECT t.rid, t.work, "
        + ", ".join(f"{value} AS {name}" for value, name in zip(row[:-1], columns, strict=True))
        + f" FROM _seed_tl t WHERE {row[-1]}"
        for row in rows
    )
    events = f"""
        CREATE TEMP TABLE _seed_ev ON COMMIT DROP AS
        SELECT $4::bigint + row_number() OVER (ORDER BY v.at, v.rid, v.ord) AS id, v.*
        FROM ({union}) v"""
    statements += [
        (events, (4,)),
        (
            """INSERT INTO registration_event (id, registration_id, kind, from_status, to_status,
                   actor_kind, actor_id, comment, items, department_code, occurred_at)
               SELECT e.id, e.rid, e.kind, e.from_status, e.to_status, e.actor_kind,
                      CASE WHEN e.actor_kind = 'STAFF' THEN rv.id ELSE e.actor_id END, NULL,
                      coalesce(e.items, '[]'::json), e.dep, e.at
               FROM _seed_ev e LEFT JOIN _seed_reviewer rv ON rv.department = e.dep
               ORDER BY e.id""",
            (),
        ),
        (
            """CREATE TEMP TABLE _seed_dec ON COMMIT DROP AS
               SELECT $5::bigint + row_number() OVER (ORDER BY e.id) AS id, e.id AS event_id,
                      e.rid, s.id AS submission_id, e.to_status, rv.id AS reviewer_id, e.dep,
                      e.at, e.items
               FROM _seed_ev e
               JOIN _seed_sub s ON s.rid = e.rid AND s.j = e.j
               JOIN _seed_reviewer rv ON rv.department = e.dep
               WHERE e.to_status IN ('APPROVED', 'RETURNED')""",
            (5,),
        ),
        (
            """INSERT INTO review_decision (id, registration_id, submission_id, outcome, comment,
                   checked_fields, reviewer_id, department_code, event_id, decided_at)
               SELECT d.id, d.rid, d.submission_id, d.to_status, NULL, '[]'::json,
                      d.reviewer_id, d.dep, d.event_id, d.at
               FROM _seed_dec d ORDER BY d.id""",
            (),
        ),
        (
            """INSERT INTO review_return_item (id, decision_id, position, field, reason_code, note)
               SELECT $6::bigint + row_number() OVER (ORDER BY d.id, x.ord), d.id, x.ord - 1,
                      x.item ->> 'field', x.item ->> 'reasonCode', x.item ->> 'note'
               FROM _seed_dec d
               CROSS JOIN LATERAL json_array_elements(d.items) WITH ORDINALITY AS x(item, ord)
               WHERE d.to_status = 'RETURNED'
               ORDER BY 1""",
            (6,),
        ),
    ]
    return statements
