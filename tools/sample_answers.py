"""What a typical applicant types into the wizard: one copy for the reference client, the
benchmarks and the tests (which import it from here, since tools must never import the tests).

Identity fields are not here: they come from the login (``devLogin`` in development).
"""

from __future__ import annotations

from typing import Any, Final

from models.id_numbers import resident_id_check_char

NOTICE: Final[dict[str, Any]] = {"eligibility": ["WORK_UNIT", "HOUSEHOLD"]}
BASIC: Final[dict[str, Any]] = {
    "countryOrRegion": "CHN",
    "ethnicGroup": "01",
    "politicalStatus": "13",
    "remarks": None,
}
WORK_UNIT: Final[dict[str, Any]] = {
    "creditCode": "91330106MA27UW5H9N",
    "unitName": "杭州示例科技有限公司",
    "economicType": "01",
    "officeDivisionCode": "330102",
    "postalCode": "310001",
    "accountingStartDate": "2012-07-01",
    "accountingPost": "01",
    "administrativeTitle": "04",
}
RESIDENCE: Final[dict[str, Any]] = {
    "divisionCode": "330106",
    "address": "西湖区文三路100号",
    "postalCode": "310012",
}
FULL_TIME: Final[dict[str, Any]] = {
    "level": "21",
    "degree": "4",
    "verificationNumber": "A1B2C3D4E5F6",
    "major": "会计学",
    "school": "浙江财经大学",
    "graduationDate": "2012-06-30",
}
PART_TIME: Final[dict[str, Any]] = {
    "level": "14",
    "degree": "3",
    "major": "工商管理",
    "school": "浙江大学",
    "graduationDate": "2018-06-30",
}
QUALIFICATION: Final[dict[str, Any]] = {
    "level": "2",
    "type": "01",
    "acquisitionMethod": "01",
    "acquiredOn": "2017-10-20",
    "appointedPost": "03",
    "appointedOn": "2017-10-21",
    "certificateNumber": "Z2017330000123",
}


def resident_id(serial: int) -> str:
    """A valid resident ID number (Hangzhou 西湖区, born 1990-01-01), one per serial < 1000."""
    body = f"33010619900101{serial % 1000:03d}"
    return body + resident_id_check_char(body)
