"""Every query and mutation against every role: who gets an answer, who is refused, and that
nobody reaches personal data they should not see. A new field without a row here fails."""

from __future__ import annotations

import pytest

from gql.schema import build_schema
from tests.api import Api
from tests.wizard import sign_in, submitted_registration

OK, UNAUTH, FORBID = "ok", "UNAUTHENTICATED", "FORBIDDEN"
ROLES = [
    "anonymous",
    "applicant",
    "other_applicant",
    "reviewer",
    "other_reviewer",
    "province",
    "dashboard",
]
PUBLIC = dict.fromkeys(ROLES, OK)
SIGNED_IN = {**dict.fromkeys(ROLES, OK), "anonymous": UNAUTH}
APPLICANTS = {
    **dict.fromkeys(ROLES, FORBID),
    "anonymous": UNAUTH,
    "applicant": OK,
    "other_applicant": OK,
}
REVIEWERS = {
    **dict.fromkeys(ROLES, FORBID),
    "anonymous": UNAUTH,
    "reviewer": OK,
    "other_reviewer": OK,
    "province": OK,
}
STATISTICS = {**REVIEWERS, "dashboard": OK}
PROVINCE = {**dict.fromkeys(ROLES, FORBID), "anonymous": UNAUTH, "province": OK}
STAFF = {**REVIEWERS, "dashboard": OK}

R = "$id: ID!"
OPERATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "viewer": ("{ viewer { kind } }", PUBLIC),
    "formOptions": ("{ formOptions { idTypes { code } } }", PUBLIC),
    "divisions": ("{ divisions { code } }", PUBLIC),
    "myRegistration": ("{ myRegistration { id } }", APPLICANTS),
    "registration": (
        f"query({R}) {{ registration(id: $id) {{ id basicInfo {{ idNumber phone }} }} }}",
        SIGNED_IN,
    ),
    "lookupUnit": ('{ lookupUnit(creditCode: "91330106MA27UW5H9N") { outcome } }', SIGNED_IN),
    "proofTemplate": (
        f"query({R}) {{ proofTemplate(registrationId: $id, kind: FIRST_EMPLOYER_PROOF) {{ url }} }}",
        APPLICANTS,
    ),
    "registrations": (
        "{ registrations(first: 5) { totalCount edges { node { maskedIdNumber } } } }",
        REVIEWERS,
    ),
    "returnReasons": ("{ returnReasons { code } }", SIGNED_IN),
    "registrationStats": ("{ registrationStats { total } }", STATISTICS),
    "registrationExport": ('{ registrationExport(departmentCode: "330102") { url } }', STATISTICS),
    "devLogin": (
        'mutation { devLogin(input: {name: "x", idNumber: "bad"}) { errors { code } } }',
        PUBLIC,
    ),
    "loginWithAlipay": ('mutation { loginWithAlipay(authCode: "x") { errors { code } } }', PUBLIC),
    "loginWithZlb": ('mutation { loginWithZlb(ticket: "x") { errors { code } } }', PUBLIC),
    "staffLogin": (
        'mutation { staffLogin(input: {username: "nobody1", password: "x"}) { errors { code } } }',
        PUBLIC,
    ),
    "refreshSession": (
        'mutation { refreshSession(refreshToken: "x") { errors { code } } }',
        PUBLIC,
    ),
    "logout": ("mutation { logout { ok } }", SIGNED_IN),
    **{
        name: (
            f'mutation {{ {name}(input: {{username: "nobody1"{extra}}}) {{ errors {{ code }} }} }}',
            PROVINCE,
        )
        for name, extra in (
            ("deactivateStaff", ""),
            ("reactivateStaff", ""),
            ("unlockStaff", ""),
            ("resetStaffPassword", ', password: "abc123!"'),
            ("moveStaff", ', departmentCode: "330106"'),
        )
    },
    "changeMyPassword": (
        'mutation { changeMyPassword(input: {currentPassword: "x", newPassword: "abc123!"}) '
        "{ ok errors { code } } }",
        STAFF,
    ),
    "startRegistration": ("mutation { startRegistration { errors { code } } }", APPLICANTS),
    "acknowledgeNotice": (
        f"mutation({R}) {{ acknowledgeNotice(input: {{registrationId: $id, expectedVersion: 0, eligibility: [SCHOOL]}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "saveBasicInfo": (
        f"mutation({R}) {{ saveBasicInfo(input: {{registrationId: $id, expectedVersion: 0}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "saveWorkOrResidence": (
        f"mutation({R}) {{ saveWorkOrResidence(input: {{registrationId: $id, expectedVersion: 0}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "saveEducation": (
        f"mutation({R}) {{ saveEducation(input: {{registrationId: $id, expectedVersion: 0}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "saveQualification": (
        f"mutation({R}) {{ saveQualification(input: {{registrationId: $id, expectedVersion: 0}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "saveRegistration": (
        f"mutation({R}) {{ saveRegistration(input: {{registrationId: $id, expectedVersion: 0}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "submitRegistration": (
        f"mutation({R}) {{ submitRegistration(input: {{registrationId: $id, expectedVersion: 0, agreed: true}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "withdrawRegistration": (
        f"mutation({R}) {{ withdrawRegistration(input: {{registrationId: $id, expectedVersion: 0}}) {{ errors {{ code }} }} }}",
        APPLICANTS,
    ),
    "requestAttachmentUpload": (
        f'mutation({R}) {{ requestAttachmentUpload(input: {{registrationId: $id, kind: ID_PHOTO, contentType: "image/jpeg", byteSize: 100000}}) {{ errors {{ code }} }} }}',
        APPLICANTS,
    ),
    "confirmAttachmentUpload": (
        'mutation { confirmAttachmentUpload(input: {uploadId: "x"}) { errors { code } } }',
        APPLICANTS,
    ),
    "approveRegistration": (
        f"mutation({R}) {{ approveRegistration(input: {{registrationId: $id, expectedVersion: 0}}) {{ errors {{ code }} }} }}",
        REVIEWERS,
    ),
    "returnRegistration": (
        f"mutation({R}) {{ returnRegistration(input: {{registrationId: $id, expectedVersion: 0, items: []}}) {{ errors {{ code }} }} }}",
        REVIEWERS,
    ),
}


def test_every_query_and_mutation_has_a_row() -> None:
    schema = build_schema(production=False)._schema
    fields = set(schema.query_type.fields) | set(schema.mutation_type.fields)  # type: ignore[union-attr]
    assert fields == set(OPERATIONS)


async def _as(api: Api, role: str) -> Api:
    if role == "anonymous":
        return api
    if role == "applicant":
        return await sign_in(api)
    if role == "other_applicant":
        return await sign_in(
            api, {"name": "李四", "idType": "01", "idNumber": "11010519491231002X"}
        )
    staff = {
        "reviewer": {"reviewerDepartmentCode": "330102"},
        "other_reviewer": {"reviewerDepartmentCode": "330106"},
        "province": {"reviewerDepartmentCode": "330000"},
        "dashboard": {"staffRole": "DASHBOARD"},
    }[role]
    result = (
        await api.data(
            """mutation($i: DevLoginInput!) { devLogin(input: $i) { accessToken } }""",
            {"i": {"name": role, **staff}},
        )
    )["devLogin"]
    return api.as_user(result["accessToken"])


@pytest.mark.parametrize("role", ROLES)
async def test_role_table(api: Api, role: str) -> None:
    owner = await sign_in(api)
    registration = await submitted_registration(owner)  # in 上城区 (330102)
    caller = await _as(api, role)
    outcomes: dict[str, str] = {}
    for name, (document, _) in OPERATIONS.items():
        if name == "logout":
            continue  # checked last: it ends the caller's session
        body = await caller.post(
            document, {"id": registration["id"]} if "$id" in document else None
        )
        errors = body.get("errors") or []
        outcomes[name] = errors[0]["extensions"]["code"] if errors else OK
        if name == "registration" and not errors:
            seen = body["data"]["registration"]
            may_see = role in ("applicant", "reviewer", "province")
            assert (seen is not None) == may_see, (role, seen)
        if name == "registrations" and not errors:
            for edge in body["data"]["registrations"]["edges"]:
                assert "********" in edge["node"]["maskedIdNumber"]
    body = await caller.post(OPERATIONS["logout"][0])
    outcomes["logout"] = body["errors"][0]["extensions"]["code"] if body.get("errors") else OK
    expected = {name: rule[role] for name, (_, rule) in OPERATIONS.items()}
    assert outcomes == expected


async def test_reviewers_act_only_on_their_department(api: Api) -> None:
    owner = await sign_in(api)
    registration = await submitted_registration(owner)
    other = await _as(api, "other_reviewer")
    approve = """mutation($id: ID!, $v: Int!) { approveRegistration(input: {registrationId: $id, expectedVersion: $v}) {
      registration { id } errors { field code } } }"""
    refused = (await other.data(approve, {"id": registration["id"], "v": registration["version"]}))[
        "approveRegistration"
    ]
    assert refused["registration"] is None and refused["errors"][0]["code"] in (
        "WRONG_DEPARTMENT",
        "NOT_FOUND",
    )
    mine = (await owner.data("{ myRegistration { status } }"))["myRegistration"]
    assert mine["status"] == "SUBMITTED"
