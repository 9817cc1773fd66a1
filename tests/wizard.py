"""The GraphQL operations a mini-program sends for each wizard step, and a walk through them."""

from __future__ import annotations

from typing import Any

from tests.api import Api
from tools.sample_answers import BASIC as BASIC
from tools.sample_answers import FULL_TIME as FULL_TIME
from tools.sample_answers import PART_TIME as PART_TIME
from tools.sample_answers import QUALIFICATION as QUALIFICATION
from tools.sample_answers import RESIDENCE as RESIDENCE
from tools.sample_answers import WORK_UNIT as WORK_UNIT

REGISTRATION_FIELDS = """
  id status version submittedAt departmentRule reopenedFields
  steps { step complete optional missing }
  notice { eligibility }
  basicInfo { name phone idType { code name } idNumber gender birthDate
              countryOrRegion { code name } ethnicGroup { code name } politicalStatus { code name } remarks }
  workUnit { creditCode unitName unitNameSource economicType { code name } officeDivisionCode postalCode
             accountingStartDate accountingPost { code name } administrativeTitle { code name } }
  residence { divisionCode address postalCode }
  education { fullTime { level { code } degree { code } verificationNumber major school graduationDate }
              partTime { level { code } degree { code } major school graduationDate } }
  qualification { level { code name } type { code } acquisitionMethod { code } acquiredOn
                  appointedPost { code } appointedOn certificateNumber }
  accountingDepartment { code name }
  requiredAttachments { kind required satisfied }
  attachments { id kind width height byteSize }
  problems { field code message }
"""

PAYLOAD = "{ registration { " + REGISTRATION_FIELDS + " } errors { field code message } }"

DEV_LOGIN = """mutation($input: DevLoginInput!) { devLogin(input: $input) {
  accessToken refreshToken viewer { name } errors { field code } } }"""
START = "mutation { startRegistration " + PAYLOAD + " }"
ACKNOWLEDGE = (
    "mutation($input: AcknowledgeNoticeInput!) { acknowledgeNotice(input: $input) " + PAYLOAD + " }"
)
SAVE_BASIC = (
    "mutation($input: SaveBasicInfoInput!) { saveBasicInfo(input: $input) " + PAYLOAD + " }"
)
SAVE_WORK = (
    "mutation($input: SaveWorkOrResidenceInput!) { saveWorkOrResidence(input: $input) "
    + PAYLOAD
    + " }"
)
SAVE_EDUCATION = (
    "mutation($input: SaveEducationInput!) { saveEducation(input: $input) " + PAYLOAD + " }"
)
SAVE_QUALIFICATION = (
    "mutation($input: SaveQualificationInput!) { saveQualification(input: $input) " + PAYLOAD + " }"
)
SUBMIT = (
    "mutation($input: SubmitRegistrationInput!) { submitRegistration(input: $input) "
    + PAYLOAD
    + " }"
)
WITHDRAW = (
    "mutation($input: WithdrawRegistrationInput!) { withdrawRegistration(input: $input) "
    + PAYLOAD
    + " }"
)
MY_REGISTRATION = "{ myRegistration { " + REGISTRATION_FIELDS + " } }"

RESIDENT = {
    "name": "张三",
    "idType": "01",
    "idNumber": "330106199003071236",
    "phone": "13812345678",
}
HK_PERMIT = {"name": "陈大文", "idType": "02", "idNumber": "H12345678", "phone": "13900001111"}


async def sign_in(api: Api, identity: dict[str, str] | None = None) -> Api:
    result = (await api.data(DEV_LOGIN, {"input": identity or RESIDENT}))["devLogin"]
    assert result["errors"] == [], result["errors"]
    return api.as_user(result["accessToken"])


async def step(
    api: Api, mutation: str, registration: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """Send one step with the registration's id and version; returns the payload."""
    variables = {
        "input": {
            "registrationId": registration["id"],
            "expectedVersion": registration["version"],
            **fields,
        }
    }
    data = await api.data(mutation, variables)
    return next(iter(data.values()))  # type: ignore[no-any-return]


async def ok(
    api: Api, mutation: str, registration: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    payload = await step(api, mutation, registration, **fields)
    assert payload["errors"] == [], payload["errors"]
    return payload["registration"]  # type: ignore[no-any-return]


async def fill_wizard(
    api: Api,
    *,
    basic: dict[str, Any] | None = None,
    work: bool = True,
    part_time: bool = False,
    qualification: bool = True,
) -> dict[str, Any]:
    """Steps 1-5 of the wizard; returns the registration (attachments still to upload)."""
    registration = (await api.data(START))["startRegistration"]["registration"]
    registration = await ok(api, ACKNOWLEDGE, registration, eligibility=["WORK_UNIT", "HOUSEHOLD"])
    registration = await ok(api, SAVE_BASIC, registration, **(basic or BASIC))
    if work:
        registration = await ok(api, SAVE_WORK, registration, workUnit=WORK_UNIT)
    else:
        registration = await ok(api, SAVE_WORK, registration, residence=RESIDENCE)
    registration = await ok(
        api,
        SAVE_EDUCATION,
        registration,
        fullTime=FULL_TIME,
        partTime=PART_TIME if part_time else None,
    )
    return await ok(
        api,
        SAVE_QUALIFICATION,
        registration,
        qualification=QUALIFICATION if qualification else None,
    )


async def attach_directly(api: Api, registration: dict[str, Any]) -> dict[str, Any]:
    """Test setup only: record every required attachment without uploading (the upload flow
    has its own tests); returns the registration re-read."""
    from models.attachments import Attachment, AttachmentKind
    from models.db import transaction

    async with transaction(api.services.db) as db:
        for item in registration["requiredAttachments"]:
            kind = AttachmentKind(item["kind"])
            db.add(
                Attachment(
                    id=f"{registration['id'][:20]}{list(AttachmentKind).index(kind):02d}",
                    registration_id=registration["id"],
                    kind=kind,
                    storage_key=f"attachments/{registration['id']}/{kind.value}.jpg",
                    width=1200,
                    height=1600,
                    byte_size=300_000,
                    sha256="0" * 64,
                )
            )
    return (await api.data(MY_REGISTRATION))["myRegistration"]  # type: ignore[no-any-return]


async def submitted_registration(api: Api, **fill: Any) -> dict[str, Any]:
    """A registration walked through every step and submitted; for review and statistics tests."""
    registration = await fill_wizard(api, **fill)
    registration = await attach_directly(api, registration)
    return await ok(api, SUBMIT, registration, agreed=True)
