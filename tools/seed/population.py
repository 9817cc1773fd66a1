"""How the synthetic population is spread: the weights of the code lists, the cities and
the return reasons, the pools of names, and a fast weighted choice.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from models.review_reasons import ReturnReason

# how the synthetic population is spread (weights need not sum to 1)
CITY_WEIGHTS = {
    "330100": 25,
    "330200": 17,
    "330300": 13,
    "330400": 8,
    "330500": 5,
    "330600": 9,
    "330700": 10,
    "330800": 3,
    "330900": 2,
    "331000": 10,
    "331100": 3,
}
ID_TYPES = (("01", 975), ("02", 10), ("03", 5), ("04", 7), ("05", 3))
EDUCATIONS = (
    (("21", "4"), 380),
    (("21", "0"), 40),
    (("31", "0"), 330),
    (("14", "3"), 80),
    (("14", "0"), 10),
    (("11", "2"), 5),
    (("41", "0"), 80),
    (("61", "0"), 50),
    (("70", "0"), 15),
    (("90", "0"), 10),
)
PART_TIME = ((("21", "4"), 50), (("21", "0"), 30), (("14", "3"), 15), (("31", "0"), 5))
QUALIFICATIONS = ((None, 40), ("1", 35), ("2", 19), ("3", 5.5), ("4", 0.5))
APPOINTED = {"1": "02", "2": "03", "3": "04", "4": "05"}
ECONOMIC_TYPES = (
    ("01", 5),
    ("02", 10),
    ("03", 3),
    ("04", 4),
    ("05", 8),
    ("06", 60),
    ("07", 2),
    ("08", 3),
    ("99", 5),
)
POLITICAL = (("13", 70), ("01", 18), ("03", 10), ("12", 2))
REASONS = (
    (ReturnReason.PHOTO_BACKGROUND, 25),
    (ReturnReason.PHOTO_UNCLEAR, 15),
    (ReturnReason.ATTACHMENT_BLURRED, 20),
    (ReturnReason.ATTACHMENT_MISMATCH, 10),
    (ReturnReason.WRONG_DEPARTMENT, 5),
    (ReturnReason.INFORMATION_INCOMPLETE, 10),
    (ReturnReason.INFORMATION_INCORRECT, 12),
    (ReturnReason.OTHER, 3),
)
REASON_FIELDS = {
    ReturnReason.PHOTO_BACKGROUND: "attachments.ID_PHOTO",
    ReturnReason.PHOTO_UNCLEAR: "attachments.ID_PHOTO",
    ReturnReason.ATTACHMENT_BLURRED: "attachments.FULL_TIME_DIPLOMA",
    ReturnReason.ATTACHMENT_MISMATCH: "attachments.CURRENT_EMPLOYER_PROOF",
    ReturnReason.WRONG_DEPARTMENT: "workUnit.officeDivisionCode",
    ReturnReason.INFORMATION_INCOMPLETE: "education.fullTime.verificationNumber",
    ReturnReason.INFORMATION_INCORRECT: "basicInfo.politicalStatus",
    ReturnReason.OTHER: "basicInfo.remarks",
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文斌欣怡子涵浩然宇轩雨婷佳琪晨"
SCHOOLS = ("浙江财经大学", "浙江工商大学", "浙江大学", "宁波大学", "温州大学", "杭州电子科技大学")
MAJORS = ("会计学", "财务管理", "审计学", "金融学", "工商管理", "经济学")
UNIT_WORDS = ("科技", "贸易", "建设", "制造", "服务", "医药", "电子", "食品", "物流", "文化")
# birth dates between these (inclusive); every (county, birth date, sequence) is one person
BIRTH_FIRST = date(1960, 1, 1)
BIRTH_DAYS = (date(2003, 12, 31) - BIRTH_FIRST).days + 1
PERMUTE = 1_000_003  # prime, coprime with the number of combinations: a bijection of ids


def weighted(pairs: Sequence[tuple[Any, float]]) -> Callable[[random.Random], Any]:
    """A fast weighted choice over (value, weight) pairs."""
    values = [v for v, _ in pairs]
    cumulative: list[float] = []
    total = 0.0
    for _, w in pairs:
        total += w
        cumulative.append(total)

    def pick(rng: random.Random) -> Any:
        x = rng.random() * total
        lo, hi = 0, len(cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cumulative[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return values[lo]

    return pick
