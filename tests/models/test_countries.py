"""The country list (ISO 3166-1 alpha-3, GB/T 2659 Chinese names) and what each ID type allows."""

from __future__ import annotations

import hashlib

import pytest

from models.cross_rules import check_country_for_id_type
from models.errors import ErrorCode, RuleViolation
from models.reference import COUNTRIES_SHA256, DATA_DIR, load_reference_data

COUNTRIES_CSV = DATA_DIR / "countries.csv"


def test_the_shipped_file_is_the_one_checked_in_and_names_its_source() -> None:
    content = COUNTRIES_CSV.read_bytes()
    assert hashlib.sha256(content).hexdigest() == COUNTRIES_SHA256
    header = content.decode("utf-8").splitlines()[:3]
    assert any("pycountry" in line and "iso-codes" in line for line in header)
    assert any("GB/T 2659" in line for line in header)


def test_every_iso_country_with_a_chinese_name_chn_first_and_regions_named_as_such() -> None:
    options = load_reference_data().options("country_region")
    codes = [o.code for o in options]
    assert len(codes) == len(set(codes)) == 249
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in codes)
    names = {o.code: o.name for o in options}
    assert codes[0] == "CHN" and names["CHN"] == "中国"
    assert (names["HKG"], names["MAC"], names["TWN"]) == ("中国香港", "中国澳门", "中国台湾")
    # the standard's short names where the translation differs
    assert (names["KOR"], names["PRK"], names["GTM"], names["KHM"]) == (
        "韩国",
        "朝鲜",
        "危地马拉",
        "柬埔寨",
    )
    assert names["USA"] == "美国" and names["DEU"] == "德国"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in names.values())


@pytest.mark.parametrize(
    ("id_type", "allowed", "refused"),
    [
        ("01", ["CHN"], ["HKG", "USA"]),
        ("02", ["HKG", "MAC"], ["CHN", "TWN"]),
        ("06", ["HKG", "MAC"], ["CHN", "GBR"]),
        ("03", ["TWN"], ["CHN", "HKG"]),
        ("07", ["TWN"], ["CHN"]),
        ("05", ["USA", "DEU", "HKG"], ["CHN"]),
        ("04", ["CHN", "USA", "HKG", "TWN"], []),
    ],
)
def test_the_id_type_constrains_the_country(
    id_type: str, allowed: list[str], refused: list[str]
) -> None:
    for country in allowed:
        check_country_for_id_type(id_type, country)
    for country in refused:
        with pytest.raises(RuleViolation) as caught:
            check_country_for_id_type(id_type, country)
        assert caught.value.code is ErrorCode.COUNTRY_NOT_FOR_ID_TYPE
        assert "国家或地区应为" in caught.value.message or "不能选择中国" in caught.value.message
