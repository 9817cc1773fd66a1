"""formOptions and divisions: the code lists and Zhejiang's divisions with their departments."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api import Api

SHARED = Path(__file__).resolve().parents[2] / "models" / "reference_data"


async def test_form_options_lists_every_code_list(api: Api) -> None:
    data = await api.data(
        """{ formOptions { idTypes { code name } ethnicGroups { code name } degrees { code name }
             educationLevels { code name } economicTypes { code name } genders { code name } } }"""
    )
    options = data["formOptions"]
    enums = json.loads((SHARED / "enums.json").read_text(encoding="utf-8"))
    assert options["idTypes"][0] == {"code": "01", "name": "居民身份证"}
    assert len(options["ethnicGroups"]) == len(enums["ethnic_group"])
    assert {"code": "01", "name": "汉族"} in options["ethnicGroups"]
    assert {"code": "4", "name": "学士"} in options["degrees"]
    assert {"code": "21", "name": "本科"} in options["educationLevels"]
    assert {"code": "01", "name": "行政单位"} in options["economicTypes"]
    assert options["genders"] == [{"code": "MALE", "name": "男"}, {"code": "FEMALE", "name": "女"}]


async def test_divisions_without_parent_are_the_eleven_cities(api: Api) -> None:
    data = await api.data("{ divisions { code name level department { code name } } }")
    cities = data["divisions"]
    assert len(cities) == 11
    assert cities[0] == {
        "code": "330100",
        "name": "杭州市",
        "level": "CITY",
        "department": {"code": "330100", "name": "杭州市财政局"},
    }
    assert all(c["level"] == "CITY" for c in cities)


async def test_counties_of_a_city_carry_their_finance_bureau(api: Api) -> None:
    data = await api.data(
        '{ divisions(parentCode: "330100") { code name level postalCode department { code name } } }'
    )
    by_code = {d["code"]: d for d in data["divisions"]}
    assert len(by_code) == 13
    assert by_code["330102"]["department"] == {"code": "330102", "name": "上城区财政局"}
    assert by_code["330102"]["level"] == "COUNTY"
    assert by_code["330102"]["postalCode"] is None  # left empty on purpose (notes.md §2)


async def test_unknown_or_county_parent_has_no_children(api: Api) -> None:
    for parent in ("999999", "330102", "../../etc", "3301000"):
        data = await api.data(
            "query($p: String) { divisions(parentCode: $p) { code } }", {"p": parent}
        )
        assert data["divisions"] == [], parent
