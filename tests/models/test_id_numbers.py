"""Identity-document numbers: every vector of rules.md §1, §2 and §5 (synthetic numbers)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import ErrorCode, RuleViolation
from models.id_numbers import (
    PROVINCE_PREFIXES,
    WARN_BORN_BEFORE_1900,
    WARN_FOREIGN_PROVINCE,
    WARN_TW_LEGACY,
    WARN_UNDER_16,
    IdNumberFacts,
    check_id_number,
    convert_legacy_resident_id,
    mask_id_number,
    mask_phone,
    resident_id_check_char,
)
from models.normalize import normalize_code, normalize_text

TODAY = date(2025, 6, 30)  # the fixed "today" the rules.md vectors were checked with

ID_TYPES = ("01", "02", "03", "04", "05", "06", "07", "99")
ID_CODES = {
    ErrorCode.UNKNOWN_CODE,
    ErrorCode.ID_NUMBER_FORMAT,
    ErrorCode.ID_NUMBER_CHECKSUM,
    ErrorCode.ID_NUMBER_BIRTH_DATE,
    ErrorCode.ID_NUMBER_REGION,
}


def _code(id_type: str, raw: str) -> ErrorCode:
    with pytest.raises(RuleViolation) as info:
        check_id_number(id_type, raw, today=TODAY)
    return info.value.code


# --- §1 居民身份证 ----------------------------------------------------------------------------

RESIDENT_VALID = [
    ("330106199003071236", date(1990, 3, 7), "1"),  # worked example, male
    ("330102198512310020", date(1985, 12, 31), "2"),  # 上城区, female
    ("330103197001010052", date(1970, 1, 1), "1"),  # 330103 下城区, abolished 2021, still valid
    ("33010619880815005X", date(1988, 8, 15), "1"),  # check character X
    ("331127200002290160", date(2000, 2, 29), "2"),  # leap day, 景宁, female
    ("360426199101010071", date(1991, 1, 1), "1"),  # python-stdnum docs example
]


@pytest.mark.parametrize(("number", "birth", "gender"), RESIDENT_VALID)
def test_resident_id_valid(number: str, birth: date, gender: str) -> None:
    facts = check_id_number("01", number, today=TODAY)
    assert (facts.number, facts.birth_date, facts.gender, facts.warnings) == (
        number,
        birth,
        gender,
        (),
    )


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("330106199003071237", ErrorCode.ID_NUMBER_CHECKSUM),  # should be 6
        ("330106199002301239", ErrorCode.ID_NUMBER_BIRTH_DATE),  # 30 February
        ("990106199003071239", ErrorCode.ID_NUMBER_REGION),  # province prefix 99
        ("33010619900307123", ErrorCode.ID_NUMBER_FORMAT),  # 17 characters
        ("3301061990A3071236", ErrorCode.ID_NUMBER_FORMAT),  # letter in the body
        ("330106203003071235", ErrorCode.ID_NUMBER_BIRTH_DATE),  # born 2030
        ("330106900307123", ErrorCode.ID_NUMBER_FORMAT),  # 15-digit legacy number (§2)
        ("", ErrorCode.ID_NUMBER_FORMAT),
        ("33010619900307123X6", ErrorCode.ID_NUMBER_FORMAT),  # 19 characters
    ],
)
def test_resident_id_invalid(number: str, code: ErrorCode) -> None:
    assert _code("01", number) == code


@pytest.mark.parametrize(
    "number",
    [
        "810000199001010019",
        "820000197511200026",
        "830000200112310152",
        "710000199001010011",  # 71 is not valid for 居民身份证 either
    ],
)
def test_resident_id_rejects_permit_prefixes(number: str) -> None:
    body = number[:17]
    number = body + resident_id_check_char(body)
    assert _code("01", number) == ErrorCode.ID_NUMBER_REGION


def test_worked_example_check_character() -> None:
    assert resident_id_check_char("33010619900307123") == "6"
    assert resident_id_check_char("33010619880815005") == "X"


@pytest.mark.parametrize(
    "body", ["", "3301061990030712", "3301061990030712X", "33010619900307123 "]
)
def test_check_char_rejects_bad_body(body: str) -> None:
    with pytest.raises(RuleViolation) as info:
        resident_id_check_char(body)
    assert info.value.code == ErrorCode.ID_NUMBER_FORMAT


def test_birth_date_today_is_accepted_and_tomorrow_is_not() -> None:
    body = "330106" + TODAY.strftime("%Y%m%d") + "123"
    facts = check_id_number("01", body + resident_id_check_char(body), today=TODAY)
    assert facts.birth_date == TODAY
    assert WARN_UNDER_16 in facts.warnings
    body = "330106" + date(2025, 7, 1).strftime("%Y%m%d") + "123"
    assert _code("01", body + resident_id_check_char(body)) == ErrorCode.ID_NUMBER_BIRTH_DATE


@pytest.mark.parametrize(
    ("birth", "under_16"),
    [("20090630", False), ("20090701", True)],  # 16th birthday exactly on TODAY / one day later
)
def test_under_16_warning_boundary(birth: str, under_16: bool) -> None:
    body = "330106" + birth + "123"
    facts = check_id_number("01", body + resident_id_check_char(body), today=TODAY)
    assert (WARN_UNDER_16 in facts.warnings) is under_16


def test_born_before_1900_is_a_warning() -> None:
    body = "33010618991231123"
    facts = check_id_number("01", body + resident_id_check_char(body), today=TODAY)
    assert facts.warnings == (WARN_BORN_BEFORE_1900,)
    body = "33010619000101123"
    assert check_id_number("01", body + resident_id_check_char(body), today=TODAY).warnings == ()


def test_warnings_hold_no_personal_data() -> None:
    body = "33010618991231123"
    number = body + resident_id_check_char(body)
    facts = check_id_number("01", number, today=TODAY)
    for warning in facts.warnings:
        assert "1899" not in warning
        assert number[:6] not in warning


@pytest.mark.parametrize(
    "raw",
    [
        "３３０１０６１９９００３０７１２３６",  # full-width digits
        " 330106199003071236\t",  # surrounding whitespace
        "330106 19900307 1236",  # spaces
        "330106-19900307-1236",  # hyphens
        "330106－19900307　1236",  # full-width hyphen and full-width space
    ],
)
def test_resident_id_normalisation(raw: str) -> None:
    assert check_id_number("01", raw, today=TODAY).number == "330106199003071236"


@pytest.mark.parametrize(
    "raw", ["33010619880815005x", "33010619880815005ｘ", "33010619880815005Ｘ"]
)
def test_lower_case_and_full_width_x(raw: str) -> None:
    assert check_id_number("01", raw, today=TODAY).number == "33010619880815005X"


def test_legacy_conversion() -> None:
    assert convert_legacy_resident_id("330106900307123") == "330106199003071236"
    with pytest.raises(RuleViolation) as info:
        convert_legacy_resident_id("33010690030712")
    assert info.value.code == ErrorCode.ID_NUMBER_FORMAT


def test_unknown_id_type() -> None:
    for id_type in ("", "1", "00", "08", "98", "居民身份证"):
        assert _code(id_type, "330106199003071236") == ErrorCode.UNKNOWN_CODE


# --- §5.3 residence permits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "number", "birth", "gender"),
    [
        ("06", "810000199001010019", date(1990, 1, 1), "1"),  # 香港, male
        ("06", "820000197511200026", date(1975, 11, 20), "2"),  # 澳门, female
        ("07", "830000200112310152", date(2001, 12, 31), "1"),  # 台湾, male
        ("06", "810000199408230021", date(1994, 8, 23), "2"),  # louismax/credentialverifier
        ("07", "830000199201300022", date(1992, 1, 30), "2"),  # public example
    ],
)
def test_residence_permit_valid(id_type: str, number: str, birth: date, gender: str) -> None:
    facts = check_id_number(id_type, number, today=TODAY)
    assert (facts.number, facts.birth_date, facts.gender, facts.warnings) == (
        number,
        birth,
        gender,
        (),
    )


@pytest.mark.parametrize("id_type", ["06", "07"])
@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("81000019900101001X", ErrorCode.ID_NUMBER_CHECKSUM),  # should be 9
        ("840000199001010014", ErrorCode.ID_NUMBER_REGION),  # prefix 84
        ("810001199001010015", ErrorCode.ID_NUMBER_REGION),  # must be exactly 810000/820000/830000
        ("81000019900101001", ErrorCode.ID_NUMBER_FORMAT),  # 17 characters
    ],
)
def test_residence_permit_invalid(id_type: str, number: str, code: ErrorCode) -> None:
    assert _code(id_type, number) == code


@pytest.mark.parametrize(
    ("id_type", "number"),
    [("06", "810000199013010016"), ("07", "83000019901301001X")],  # month 13, check char right
)
def test_residence_permit_month_13(id_type: str, number: str) -> None:
    assert resident_id_check_char(number[:17]) == number[17]
    assert _code(id_type, number) == ErrorCode.ID_NUMBER_BIRTH_DATE


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("06", "830000200112310152"),  # 台湾 prefix as 港澳居民居住证
        ("07", "810000199001010019"),  # 香港 prefix as 台湾居民居住证
        ("07", "820000197511200026"),
        ("06", "330106199003071236"),  # a resident ID as a residence permit
    ],
)
def test_residence_permit_prefix_must_fit_type(id_type: str, number: str) -> None:
    assert _code(id_type, number) == ErrorCode.ID_NUMBER_REGION


# --- §5.1 / §5.2 travel permits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("H12345678", "H12345678"), ("M1234567801", "M1234567801"), ("h1234 5678", "H12345678")],
)
def test_hk_macau_permit_valid(raw: str, stored: str) -> None:
    assert check_id_number("02", raw, today=TODAY) == IdNumberFacts(stored, None, None, ())


@pytest.mark.parametrize(
    "raw", ["A12345678", "H1234567", "H123456789", "H123456780123", "12345678", "HH2345678", ""]
)
def test_hk_macau_permit_invalid(raw: str) -> None:
    assert _code("02", raw) == ErrorCode.ID_NUMBER_FORMAT


@pytest.mark.parametrize(
    ("raw", "stored"), [("12345678", "12345678"), ("1234567801", "1234567801")]
)
def test_taiwan_permit_valid(raw: str, stored: str) -> None:
    assert check_id_number("03", raw, today=TODAY) == IdNumberFacts(stored, None, None, ())


@pytest.mark.parametrize(
    ("raw", "stored"), [("12345678(B)", "12345678(B)"), ("12345678（b）", "12345678(B)")]
)
def test_taiwan_permit_legacy_is_kept_whole_with_warning(raw: str, stored: str) -> None:
    facts = check_id_number("03", raw, today=TODAY)
    assert facts.number == stored
    assert facts.warnings == (WARN_TW_LEGACY,)


@pytest.mark.parametrize(
    "raw", ["1234567", "123456789", "12345678901", "T12345678", "12345678(BB)", ""]
)
def test_taiwan_permit_invalid(raw: str) -> None:
    assert _code("03", raw) == ErrorCode.ID_NUMBER_FORMAT


# --- §5.4 外国人永久居留身份证 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "birth", "gender"),
    [
        ("933840198506150017", date(1985, 6, 15), "1"),
        ("911392199001010121", date(1990, 1, 1), "2"),
    ],
)
def test_foreign_permanent_residence_2023_valid(number: str, birth: date, gender: str) -> None:
    facts = check_id_number("05", number, today=TODAY)
    assert (facts.number, facts.birth_date, facts.gender, facts.warnings) == (
        number,
        birth,
        gender,
        (),
    )


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("933840198506150018", ErrorCode.ID_NUMBER_CHECKSUM),  # wrong check character
        ("800840198506150015", ErrorCode.ID_NUMBER_FORMAT),  # does not start with 9
        ("93384019850615001", ErrorCode.ID_NUMBER_FORMAT),  # 17 characters
        ("USA84019850615001", ErrorCode.ID_NUMBER_FORMAT),
        ("USA84019850615", ErrorCode.ID_NUMBER_FORMAT),  # old edition with 11 digits
        ("1SA840198506150", ErrorCode.ID_NUMBER_FORMAT),
    ],
)
def test_foreign_permanent_residence_invalid(number: str, code: ErrorCode) -> None:
    assert _code("05", number) == code


def test_foreign_permanent_residence_bad_date() -> None:
    body = "93384019850230001"  # 30 February
    assert _code("05", body + resident_id_check_char(body)) == ErrorCode.ID_NUMBER_BIRTH_DATE


def test_foreign_permanent_residence_unknown_province_is_a_warning() -> None:
    body = "99984019850615001"
    facts = check_id_number("05", body + resident_id_check_char(body), today=TODAY)
    assert facts.warnings == (WARN_FOREIGN_PROVINCE,)
    assert facts.birth_date == date(1985, 6, 15)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("USA840198506150", "USA840198506150"), ("usa 840198506150", "USA840198506150")],
)
def test_foreign_permanent_residence_old_edition(raw: str, stored: str) -> None:
    assert check_id_number("05", raw, today=TODAY) == IdNumberFacts(stored, None, None, ())


# --- §5.5 护照 and 99 其他 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("E12345678", "E12345678"),
        ("g 1234 5678", "G12345678"),
        ("AB123", "AB123"),
        ("A" * 17, "A" * 17),
    ],
)
def test_passport_valid(raw: str, stored: str) -> None:
    assert check_id_number("04", raw, today=TODAY) == IdNumberFacts(stored, None, None, ())


@pytest.mark.parametrize("raw", ["AB12", "A" * 18, "E1234567/8", "护照12345", ""])
def test_passport_invalid(raw: str) -> None:
    assert _code("04", raw) == ErrorCode.ID_NUMBER_FORMAT


@pytest.mark.parametrize(
    ("raw", "stored"), [("1", "1"), ("ab-12 3", "AB123"), ("Z" * 30, "Z" * 30)]
)
def test_other_valid(raw: str, stored: str) -> None:
    assert check_id_number("99", raw, today=TODAY) == IdNumberFacts(stored, None, None, ())


@pytest.mark.parametrize("raw", ["", " - ", "Z" * 31, "AB/12", "证件123"])
def test_other_invalid(raw: str) -> None:
    assert _code("99", raw) == ErrorCode.ID_NUMBER_FORMAT


# --- masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("330102198512311234", "330102********1234"),
        ("33010619880815005X", "330106********005X"),
        ("USA840198506150", "USA840*****6150"),
        ("E12345678", "E1*****78"),
        ("AB123", "A**23"),
        ("1234", "1*34"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked
    assert len(mask_id_number(number)) == len(number)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("12345678", "123*5678"), ("12345", "***45"), ("12", "**")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  ａｂｃ－１２３　４  ", "ABC1234"),
        ("91330106-ma27uw5h9n", "91330106MA27UW5H9N"),
        ("1\u20132\u20143\u22124", "1234"),  # en dash, em dash, minus sign
        ("a\u00a0b\tc\nd", "ABCD"),  # no-break space, tab, newline
        ("", ""),
    ],
)
def test_normalize_code(raw: str, normalised: str) -> None:
    assert normalize_code(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  浙江省\u3000杭州市   西湖区 ", "浙江省 杭州市 西湖区"),
        ("Zhang\t\tSan", "Zhang San"),
        ("e\u0301", "\u00e9"),  # NFC composes
        ("\u3000\u3000", ""),
        ("ＡＢＣ", "ＡＢＣ"),  # full-width letters stay as typed in text
    ],
)
def test_normalize_text(raw: str, normalised: str) -> None:
    assert normalize_text(raw) == normalised


# --- properties -------------------------------------------------------------------------------


@st.composite
def resident_bodies(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(sorted(PROVINCE_PREFIXES)))
    county = draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return prefix + county + birth.strftime("%Y%m%d") + sequence


@given(body=resident_bodies(), position=st.integers(0, 17), data=st.data())
def test_check_char_accepts_and_any_single_change_is_caught(
    body: str, position: int, data: st.DataObject
) -> None:
    number = body + resident_id_check_char(body)
    facts = check_id_number("01", number, today=TODAY)
    assert facts.number == number
    assert facts.gender == ("1" if int(body[16]) % 2 else "2")
    assert facts.birth_date is not None and facts.birth_date.strftime("%Y%m%d") == body[6:14]

    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(RuleViolation) as info:
        check_id_number("01", changed, today=TODAY)
    assert info.value.code == ErrorCode.ID_NUMBER_CHECKSUM


@given(id_type=st.one_of(st.sampled_from(ID_TYPES), st.text(max_size=3)), raw=st.text())
def test_check_id_number_never_crashes(id_type: str, raw: str) -> None:
    try:
        facts = check_id_number(id_type, raw, today=TODAY)
    except RuleViolation as exc:
        assert exc.code in ID_CODES
    else:
        assert facts.number == normalize_code(raw)
        assert facts.number.isascii()


@given(raw=st.from_regex(r"[0-9X ]{0,20}", fullmatch=True), id_type=st.sampled_from(ID_TYPES))
def test_check_id_number_near_misses_never_crash(id_type: str, raw: str) -> None:
    try:
        check_id_number(id_type, raw, today=TODAY)
    except RuleViolation as exc:
        assert exc.code in ID_CODES


@given(st.text())
def test_masking_keeps_length(value: str) -> None:
    assert len(mask_id_number(value)) == len(value)
    assert len(mask_phone(value)) == len(value)
