"""Unit codes: every vector of rules.md §3 (USCC) and §4 (organization code)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import ErrorCode, RuleViolation
from models.unit_codes import (
    USCC_CHARSET,
    USCC_DEPARTMENTS,
    WARN_CATEGORY,
    WARN_EMBEDDED_ORG_CODE,
    UnitCodeFacts,
    check_unit_code,
    org_code_check_char,
    uscc_check_char,
)


def _code(raw: str) -> ErrorCode:
    with pytest.raises(RuleViolation) as info:
        check_unit_code(raw)
    return info.value.code


# --- §3 USCC ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "91330106MA27UW5H9N",  # worked example: 工商/企业, 西湖区
        "12330000470000128M",  # 机构编制/事业单位, province level
        "113301000025006238",  # 机构编制/机关, 杭州市
        "52330102MA2H0B7N9C",  # 民政/民办非企业单位, 上城区
        "92330110MA28G1LJ7N",  # 工商/个体工商户, 余杭区
        "N2331127MA2Q3RT84T",  # 农业/村级集体经济组织; letter department code
        "91330106MA2C0001X9",  # embedded organization code ends in X
        "91110000600037341L",  # python-stdnum docs example
    ],
)
def test_uscc_valid(code: str) -> None:
    assert check_unit_code(code) == UnitCodeFacts(code, "USCC", code[2:8], ())


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("91330106MA27UW5H9P", ErrorCode.CREDIT_CODE_CHECKSUM),  # should be N
        ("91330106IA27UW5H9N", ErrorCode.CREDIT_CODE_FORMAT),  # contains I
        ("91330106MA27UW5H9", ErrorCode.CREDIT_CODE_FORMAT),  # 17 characters
        ("91330106MA27UW5H9Z", ErrorCode.CREDIT_CODE_FORMAT),  # Z is not in the character set
        ("01330106MA27UW5H90", ErrorCode.CREDIT_CODE_DEPARTMENT),  # department 0 (check right)
        ("9133010AMA27UW5H9N", ErrorCode.CREDIT_CODE_FORMAT),  # letter in positions 3-8
        ("91330106MA27UW5H9N1", ErrorCode.CREDIT_CODE_FORMAT),  # 19 characters
        ("", ErrorCode.CREDIT_CODE_FORMAT),
    ],
)
def test_uscc_invalid(code: str, error: ErrorCode) -> None:
    assert _code(code) == error


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_uscc_excluded_letters(letter: str) -> None:
    assert _code("91330106MA27UW5H" + letter + "N") == ErrorCode.CREDIT_CODE_FORMAT


def test_uscc_embedded_org_code_failure_is_a_warning() -> None:
    facts = check_unit_code("91330106MA27UW5H0T")
    assert facts == UnitCodeFacts("91330106MA27UW5H0T", "USCC", "330106", (WARN_EMBEDDED_ORG_CODE,))


def test_uscc_embedded_org_code_with_non_check_char_is_a_warning() -> None:
    body = "91330106MA27UW5HY"  # position 17 "Y" cannot be a GB 11714 check character
    facts = check_unit_code(body + uscc_check_char(body))
    assert facts.warnings == (WARN_EMBEDDED_ORG_CODE,)


def test_uscc_worked_example_check_character() -> None:
    assert uscc_check_char("91330106MA27UW5H9") == "N"


def test_uscc_check_value_31_maps_to_zero() -> None:
    # exactly one 17th character gives S mod 31 == 0, whose check character must be "0"
    body16 = "9133010600000000"
    zeros = [ch for ch in USCC_CHARSET if uscc_check_char(body16 + ch) == "0"]
    assert len(zeros) == 1
    code = body16 + zeros[0] + "0"
    assert check_unit_code(code).code == code


@pytest.mark.parametrize("body", ["", "9133010", "91330106MA27UW5HI", "91330106ma27uw5h9"])
def test_uscc_check_char_rejects_bad_body(body: str) -> None:
    with pytest.raises(RuleViolation) as info:
        uscc_check_char(body)
    assert info.value.code == ErrorCode.CREDIT_CODE_FORMAT


@pytest.mark.parametrize(
    ("department", "category", "known"),
    [(d, c, c in cats) for d, cats in sorted(USCC_DEPARTMENTS.items()) for c in "12345679AB"],
)
def test_uscc_department_table(department: str, category: str, known: bool) -> None:
    body = department + category + "330106MA27UW5H9"
    facts = check_unit_code(body + uscc_check_char(body))
    assert facts.warnings == (() if known else (WARN_CATEGORY,))


@pytest.mark.parametrize("department", sorted(set(USCC_CHARSET) - set("123456789ANY")))
def test_uscc_unknown_department(department: str) -> None:
    body = department + "1330106MA27UW5H9"
    assert _code(body + uscc_check_char(body)) == ErrorCode.CREDIT_CODE_DEPARTMENT


def test_uscc_category_9_of_department_9_is_a_warning() -> None:
    body = "99330106MA27UW5H9"  # 工商 has no category 9 in Table 2
    assert check_unit_code(body + uscc_check_char(body)).warnings == (WARN_CATEGORY,)


@pytest.mark.parametrize(
    "raw",
    [
        "91330106ma27uw5h9n",
        " 91330106-MA27UW5H9N ",
        "９１３３０１０６ＭＡ２７ＵＷ５Ｈ９Ｎ",
        "9133 0106 MA27 UW5H 9N",
    ],
)
def test_uscc_normalisation(raw: str) -> None:
    assert check_unit_code(raw).code == "91330106MA27UW5H9N"


# --- §4 organization code ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("123456788", "123456788"),
        ("MA27UW5H9", "MA27UW5H9"),  # worked example
        ("470000128", "470000128"),
        ("MA2C0001X", "MA2C0001X"),  # C9 = 10 → X
        ("MA2D00010", "MA2D00010"),  # C9 = 11 → 0
        ("60003734-1", "600037341"),  # hyphenated
        ("ma27uw5h-9", "MA27UW5H9"),
        ("ＭＡ２７ＵＷ５Ｈ－９", "MA27UW5H9"),
    ],
)
def test_org_code_valid(raw: str, stored: str) -> None:
    assert check_unit_code(raw) == UnitCodeFacts(stored, "ORG_CODE", None, ())


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("123456789", ErrorCode.ORG_CODE_CHECKSUM),  # should be 8
        ("12345678", ErrorCode.CREDIT_CODE_FORMAT),  # 8 characters
        ("1234567*8", ErrorCode.CREDIT_CODE_FORMAT),  # illegal character
        ("12345678Y", ErrorCode.CREDIT_CODE_FORMAT),  # check must be a digit or X
        ("MA27UW5HQ", ErrorCode.CREDIT_CODE_FORMAT),  # check must be a digit or X
    ],
)
def test_org_code_invalid(raw: str, error: ErrorCode) -> None:
    assert _code(raw) == error


@pytest.mark.parametrize(
    ("body", "check"),
    [("MA27UW5H", "9"), ("60003734", "1"), ("12345678", "8"), ("MA2C0001", "X"), ("MA2D0001", "0")],
)
def test_org_code_check_char(body: str, check: str) -> None:
    assert org_code_check_char(body) == check


@pytest.mark.parametrize("body", ["", "1234567", "123456789", "1234567*", "ma27uw5h"])
def test_org_code_check_char_rejects_bad_body(body: str) -> None:
    with pytest.raises(RuleViolation) as info:
        org_code_check_char(body)
    assert info.value.code == ErrorCode.CREDIT_CODE_FORMAT


# --- properties -------------------------------------------------------------------------------

UNIT_CODES = {
    ErrorCode.CREDIT_CODE_FORMAT,
    ErrorCode.CREDIT_CODE_CHECKSUM,
    ErrorCode.CREDIT_CODE_DEPARTMENT,
    ErrorCode.ORG_CODE_CHECKSUM,
}


@given(st.text())
def test_check_unit_code_never_crashes(raw: str) -> None:
    try:
        facts = check_unit_code(raw)
    except RuleViolation as exc:
        assert exc.code in UNIT_CODES
    else:
        assert len(facts.code) in (9, 18)


@given(st.text(alphabet=USCC_CHARSET + "IOSVZ-* ", min_size=7, max_size=20))
def test_check_unit_code_near_misses_never_crash(raw: str) -> None:
    try:
        check_unit_code(raw)
    except RuleViolation as exc:
        assert exc.code in UNIT_CODES


@given(
    department=st.sampled_from(sorted(USCC_DEPARTMENTS)),
    rest=st.text(alphabet=USCC_CHARSET, min_size=10, max_size=10),
    region=st.from_regex(r"[0-9]{6}", fullmatch=True),
    position=st.integers(0, 17),
    data=st.data(),
)
def test_uscc_single_substitution_is_caught(
    department: str, rest: str, region: str, position: int, data: st.DataObject
) -> None:
    body = department + "1" + region + rest[:9]
    code = body + uscc_check_char(body)
    assert check_unit_code(code).code == code
    alphabet = "0123456789" if 2 <= position <= 7 else USCC_CHARSET
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != code[position]]))
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(RuleViolation) as info:
        check_unit_code(changed)
    assert info.value.code == ErrorCode.CREDIT_CODE_CHECKSUM
