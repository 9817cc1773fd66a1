"""The reopen table (models/reopen.py), one test per row, and which reasons fit which item."""

from __future__ import annotations

import pytest

from models.errors import ADVISORY, ErrorCode, is_advisory
from models.reopen import REOPENS, reopened_by, reopened_paths
from models.review_reasons import ReturnReason, reasons_for

ROWS = {
    "education": [
        "attachments.FULL_TIME_DIPLOMA",
        "attachments.FULL_TIME_DEGREE",
        "attachments.PART_TIME_DIPLOMA",
        "attachments.PART_TIME_DEGREE",
    ],
    "education.fullTime": ["attachments.FULL_TIME_DIPLOMA", "attachments.FULL_TIME_DEGREE"],
    "education.partTime": ["attachments.PART_TIME_DIPLOMA", "attachments.PART_TIME_DEGREE"],
    "qualification": ["attachments.QUALIFICATION_CERTIFICATE"],
    "workUnit": [
        "residence",
        "attachments.CREDIT_CODE_CERTIFICATE",
        "attachments.FIRST_EMPLOYER_PROOF",
        "attachments.CURRENT_EMPLOYER_PROOF",
    ],
    "residence": [
        "workUnit",
        "attachments.CREDIT_CODE_CERTIFICATE",
        "attachments.FIRST_EMPLOYER_PROOF",
        "attachments.CURRENT_EMPLOYER_PROOF",
    ],
}


def test_every_row_of_the_table_is_tested() -> None:
    assert set(ROWS) == set(REOPENS)


@pytest.mark.parametrize("path", sorted(ROWS))
def test_a_returned_section_reopens_what_belongs_to_it(path: str) -> None:
    assert list(reopened_by(path)) == [path, *ROWS[path]]


def test_a_field_reopens_its_sections_proofs_but_not_the_other_branch() -> None:
    assert reopened_by("education.fullTime.degree") == (
        "education.fullTime.degree",
        "attachments.FULL_TIME_DIPLOMA",
        "attachments.FULL_TIME_DEGREE",
    )
    assert "residence" not in reopened_by("workUnit.unitName")
    assert reopened_by("residence.address") == ("residence.address",)
    assert reopened_by("basicInfo.ethnicGroup") == ("basicInfo.ethnicGroup",)
    assert reopened_by("attachments.ID_PHOTO") == ("attachments.ID_PHOTO",)


def test_reopened_paths_are_sorted_and_each_once() -> None:
    assert reopened_paths(["education.fullTime", "attachments.FULL_TIME_DIPLOMA"]) == [
        "attachments.FULL_TIME_DEGREE",
        "attachments.FULL_TIME_DIPLOMA",
        "education.fullTime",
    ]


def test_reasons_fit_their_item() -> None:
    photo = set(reasons_for("attachments.ID_PHOTO"))
    document = set(reasons_for("attachments.FULL_TIME_DIPLOMA"))
    school = set(reasons_for("education.fullTime.school"))
    assert ReturnReason.PHOTO_BACKGROUND in photo and ReturnReason.PHOTO_BACKGROUND not in school
    assert ReturnReason.PHOTO_BACKGROUND not in document
    assert ReturnReason.ATTACHMENT_BLURRED in document and ReturnReason.ATTACHMENT_BLURRED in photo
    assert ReturnReason.INFORMATION_INCORRECT in school
    assert ReturnReason.INFORMATION_INCORRECT not in document
    assert all(ReturnReason.OTHER in s for s in (photo, document, school))
    assert reasons_for(None) == list(ReturnReason)


def test_advisory_is_a_property_of_the_code() -> None:
    for code in (
        "PHOTO_BACKGROUND",
        "PHOTO_UPSCALED",
        "DOCUMENT_BLANK",
        "DOCUMENT_LOW_RESOLUTION",
        "NEEDS_CHECK",
        "POSTAL_CODE_OUTSIDE_ZHEJIANG",
    ):
        assert is_advisory(ErrorCode(code))
    assert not is_advisory(ErrorCode.ID_NUMBER_CHECKSUM)
    assert not is_advisory(ErrorCode.PHOTO_NOT_PORTRAIT)  # blocking at upload
    assert ErrorCode.FINDING_NOT_FOUND not in ADVISORY
