"""Mobile phone (rules.md §6) and postal code (rules.md §7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.contact import PostalFacts, check_phone, check_postal_code
from models.errors import ErrorCode, RuleViolation


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("+8613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("013800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        (" 138 0013 8000 ", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits
        ("＋８６　１３８００１３８０００", "13800138000"),
    ],
)
def test_phone_valid(raw: str, phone: str) -> None:
    assert check_phone(raw) == phone


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12800138000",  # second digit 2
        "10800138000",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits without a 0 prefix
        "+8513800138000",
        "+86013800138000",
        "00013800138000",
        "1380013800a",
        "057187654321",  # landline
        "1440013800012",  # 13-digit IoT number
        "٠١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits are not accepted
    ],
)
def test_phone_invalid(raw: str) -> None:
    with pytest.raises(RuleViolation) as info:
        check_phone(raw)
    assert info.value.code == ErrorCode.PHONE_FORMAT


@pytest.mark.parametrize(
    ("raw", "facts"),
    [
        ("310001", PostalFacts("310001", True)),  # 上城区 (portal guide example)
        ("310000", PostalFacts("310000", True)),
        ("325802", PostalFacts("325802", True)),
        ("318050", PostalFacts("318050", True)),
        ("321000", PostalFacts("321000", True)),
        ("202450", PostalFacts("202450", True)),  # 嵊泗县, in Shanghai's range
        ("202451", PostalFacts("202451", False)),
        ("200000", PostalFacts("200000", False)),  # 上海
        ("330000", PostalFacts("330000", False)),  # 江西
        ("309999", PostalFacts("309999", False)),
        (" 310 001 ", PostalFacts("310001", True)),
        ("３１０００１", PostalFacts("310001", True)),
    ],
)
def test_postal_code_valid(raw: str, facts: PostalFacts) -> None:
    assert check_postal_code(raw) == facts


@pytest.mark.parametrize("raw", ["", "31000", "3100011", "31000A", "邮编310001", "٣١٠٠٠١"])
def test_postal_code_invalid(raw: str) -> None:
    with pytest.raises(RuleViolation) as info:
        check_postal_code(raw)
    assert info.value.code == ErrorCode.POSTAL_CODE_FORMAT


@given(st.text())
def test_check_phone_never_crashes(raw: str) -> None:
    try:
        phone = check_phone(raw)
    except RuleViolation as exc:
        assert exc.code == ErrorCode.PHONE_FORMAT
    else:
        assert len(phone) == 11 and phone.isascii() and phone.isdigit()


@given(st.text())
def test_check_postal_code_never_crashes(raw: str) -> None:
    try:
        facts = check_postal_code(raw)
    except RuleViolation as exc:
        assert exc.code == ErrorCode.POSTAL_CODE_FORMAT
    else:
        assert len(facts.code) == 6 and facts.code.isascii() and facts.code.isdigit()
