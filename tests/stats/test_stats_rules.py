"""The statistics' plain rules: small groups, histogram percentiles, buckets, the filter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import product
from typing import Any

import pytest

from models.errors import ErrorCode, ProblemsFound
from models.reference import load_reference_data
from models.registration import Status
from models.stats.answer import BacklogAge, backlog_age
from models.stats.privacy import COMPLEMENT, SMALL, protect
from models.stats.request import StatsRequest, resolve_request
from models.stats.rules import (
    Profile,
    Standing,
    add_activity,
    add_standing,
    china_day,
    histogram_percentile,
    scopes_for,
    turnaround_bucket,
)
from models.stats.tables import MIN_GROUP, Deltas, Dimension, Metric

REFERENCE = load_reference_data()
TODAY = date(2026, 11, 26)


# -- the small-group rule -------------------------------------------------------------------------


def test_counts_of_one_to_four_are_hidden_and_zero_is_shown() -> None:
    cells = protect([0, 1, 4, 5, 120], complementary=False)
    assert [c.count for c in cells] == [0, None, None, 5, 120]
    assert [c.display for c in cells] == ["0", SMALL, SMALL, "5", "120"]
    assert [c.suppressed for c in cells] == [False, True, True, False, False]


def test_a_lone_small_cell_gets_a_complement_so_the_total_does_not_reveal_it() -> None:
    # total 20 known: 12 + 3 + 5 would let anyone compute the "<5" as 3
    cells = protect([12, 3, 5, 0])
    assert [c.display for c in cells] == ["12", SMALL, COMPLEMENT, "0"]
    assert cells[2].count is None and cells[2].suppressed


def test_small_cells_that_together_pin_each_other_down_get_a_complement() -> None:
    # two hidden cells adding up to 2 can only be 1 and 1
    assert [c.display for c in protect([1, 1, 30, 40])] == [SMALL, SMALL, COMPLEMENT, "40"]
    # 2 + 3 = 5: either could be 1..4, nothing more to hide
    assert [c.display for c in protect([2, 3, 30])] == [SMALL, SMALL, "30"]


def test_complements_stay_within_their_group() -> None:
    cells = protect([3, 9, 50, 2, 8, 7], groups=["a", "a", "a", "b", "b", "b"])
    assert [c.display for c in cells] == [SMALL, COMPLEMENT, "50", SMALL, "8", COMPLEMENT]


def test_no_hidden_small_count_can_be_worked_out_from_the_total() -> None:
    """Brute force: for every breakdown of four cells, anyone who knows the total and sees the
    answer finds at least two values for each "<5" cell, unless no non-zero cell is left to
    hide (a tiny group: 1 + 5 = 6 can only be read one way)."""
    for counts in product([0, 1, 2, 4, 5, 6, 9], repeat=4):
        _check_breakdown(counts)


def _check_breakdown(counts: tuple[int, ...]) -> None:
    cells = protect(list(counts))
    total = sum(counts)
    assert all(c.count is None or c.count >= MIN_GROUP or c.count == 0 for c in cells)
    options: list[range] = [
        range(c.count, c.count + 1)
        if c.count is not None
        else range(1, MIN_GROUP)
        if c.display == SMALL
        else range(MIN_GROUP, total + 1)
        for c in cells
    ]
    solutions = [combo for combo in product(*options) if sum(combo) == total]
    assert tuple(counts) in solutions
    nothing_left = all(c.count in (0, None) for c in cells)
    for i, cell in enumerate(cells):
        if cell.display == SMALL:
            assert len({s[i] for s in solutions}) > 1 or nothing_left, (counts, cells)


# -- activity and standing rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "bucket"),
    [
        (-1, 0),
        (0, 0),
        (0.5, 0),
        (23.99, 23),
        (24, 24),
        (25.9, 24),
        (26, 26),
        (71.9, 70),
        (72, 72),
        (80, 78),
        (200, 192),
        (500, 480),
        (1000, 936),
        (5000, 2160),
    ],
)
def test_turnaround_buckets(hours: float, bucket: int) -> None:
    assert turnaround_bucket(hours) == bucket


def test_percentiles_interpolate_within_the_bucket() -> None:
    assert histogram_percentile({}, 0.5) is None
    # ten decisions in the 2-3 h bucket: the median is half-way through it
    assert histogram_percentile({2: 10}, 0.5) == 2.5
    histogram = {0: 50, 24: 40, 72: 10}
    assert histogram_percentile(histogram, 0.5) == 1.0
    assert histogram_percentile(histogram, 0.9) == 26.0
    assert histogram_percentile({2160: 3}, 0.5) == 2160.0  # the open bucket: its lower bound


@pytest.mark.parametrize(
    ("waited", "bucket"),
    [
        (0, "DAYS_0_1"),
        (1, "DAYS_0_1"),
        (2, "DAYS_2_3"),
        (3, "DAYS_2_3"),
        (4, "DAYS_4_7"),
        (7, "DAYS_4_7"),
        (8, "OVER_7_DAYS"),
        (100, "OVER_7_DAYS"),
        (-1, "DAYS_0_1"),
    ],
)
def test_backlog_ages(waited: int, bucket: str) -> None:
    assert backlog_age(TODAY - timedelta(days=waited), TODAY) is BacklogAge(bucket)


def test_highest_education_follows_the_code_list_order() -> None:
    profile = Profile.of(
        REFERENCE,
        id_type="01",
        full_time=("31", "0"),
        part_time=("21", "4"),
        qualification_level=None,
        economic_type=None,
    )
    assert (profile.education_level, profile.degree) == ("21", "4")
    assert (profile.qualification_level, profile.economic_type) == ("NONE", "NONE")
    none = Profile.of(
        REFERENCE,
        id_type="01",
        full_time=(None, None),
        part_time=(None, None),
        qualification_level="2",
        economic_type="06",
    )
    assert (none.education_level, none.degree) == ("NONE", "NONE")


def test_a_registration_counts_in_its_department_city_and_the_province() -> None:
    assert scopes_for("330102", REFERENCE) == ("P", "C330100", "D330102")
    assert scopes_for(None, REFERENCE) == ("P",)
    deltas = Deltas()
    profile = Profile("01", "21", "4", "NONE", "06")
    add_standing(deltas, Standing(Status.SUBMITTED, "330102", profile, TODAY), REFERENCE)
    for scope in ("P", "C330100", "D330102"):
        assert deltas.counters[(scope, Dimension.STATUS, "SUBMITTED")] == 1
        assert deltas.counters[(scope, Dimension.DEPARTMENT, "330102")] == 1
        assert deltas.counters[(scope, Dimension.CITY, "330100")] == 1
        assert deltas.counters[(scope, Dimension.ECONOMIC_TYPE, "06")] == 1
        assert deltas.daily[(scope, Metric.WAITING, TODAY, "")] == 1
    # a draft never submitted: its status, province-wide, and nothing else
    draft = Deltas()
    add_standing(draft, Standing(Status.DRAFT, None), REFERENCE)
    assert draft.counters == {("P", Dimension.STATUS, "DRAFT"): 1} and draft.daily == {}
    # a returned registration keeps its department but leaves the distributions
    returned = Deltas()
    add_standing(returned, Standing(Status.RETURNED, "330102", profile), REFERENCE)
    assert not any(k[1] == Dimension.ID_TYPE for k in returned.counters)


def test_a_first_pass_approval_and_a_return_count_as_activity() -> None:
    from datetime import UTC, datetime

    submitted = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    deltas = Deltas()
    add_activity(
        deltas,
        REFERENCE,
        to_status=Status.APPROVED,
        from_status=Status.SUBMITTED,
        department="330102",
        occurred_at=submitted + timedelta(hours=30, minutes=5),
        sequence=1,
        submitted_at=submitted,
    )
    day = date(2026, 11, 21)  # 07:05 UTC is 15:05 in China
    for metric, code in [
        (Metric.DECIDED, ""),
        (Metric.APPROVED, ""),
        (Metric.FIRST_DECIDED, ""),
        (Metric.FIRST_PASS, ""),
        (Metric.TURNAROUND, "30"),
    ]:
        assert deltas.daily[("D330102", metric, day, code)] == 1
    returned = Deltas()
    add_activity(
        returned,
        REFERENCE,
        to_status=Status.RETURNED,
        from_status=Status.SUBMITTED,
        department="330102",
        occurred_at=submitted,
        items=[
            {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
            {"field": "basicInfo.remarks", "reasonCode": "PHOTO_BACKGROUND"},
        ],
        sequence=2,
        submitted_at=submitted,
    )
    keys = {k[1:] for k in returned.daily if k[0] == "P"}
    reason_day = china_day(submitted)
    assert (Metric.RETURN_REASON, reason_day, "PHOTO_BACKGROUND") in keys
    assert returned.daily[("P", Metric.RETURN_REASON, reason_day, "PHOTO_BACKGROUND")] == 1
    assert (Metric.FIRST_DECIDED, reason_day, "") not in keys


# -- the filter -------------------------------------------------------------------------------------


def _everyone(_: str | None) -> bool:
    return True


def _reviewer_of(own: str) -> Callable[[str | None], bool]:
    return lambda code: code == own


def resolve(**kwargs: Any) -> StatsRequest:
    values: dict[str, Any] = {
        "department_code": None,
        "city_code": None,
        "start": None,
        "end": None,
        "today": TODAY,
        "own_department": None,
        "may_see": _everyone,
    }
    values.update(kwargs)
    return resolve_request(REFERENCE, **values)


def codes(exc: pytest.ExceptionInfo[ProblemsFound]) -> list[tuple[str, ErrorCode]]:
    return [(p.field, p.code) for p in exc.value.problems]


def test_the_default_range_is_the_last_thirty_days_province_wide() -> None:
    request = resolve()
    assert (request.start, request.end) == (TODAY - timedelta(days=29), TODAY)
    assert request.scope.kind == "province" and request.scope.key == "P"


def test_bad_ranges_are_field_errors() -> None:
    with pytest.raises(ProblemsFound) as backwards:
        resolve(start=date(2026, 5, 2), end=date(2026, 5, 1))
    assert codes(backwards) == [("filter.from", ErrorCode.DATE_RANGE_BACKWARDS)]
    with pytest.raises(ProblemsFound) as too_long:
        resolve(start=date(2020, 1, 1), end=date(2025, 1, 1))
    assert codes(too_long) == [("filter.to", ErrorCode.DATE_RANGE_TOO_LONG)]
    five_years = resolve(start=date(2020, 1, 1), end=date(2024, 12, 31))
    assert five_years.start == date(2020, 1, 1)


def test_unknown_departments_and_cities_are_field_errors() -> None:
    with pytest.raises(ProblemsFound) as unknown:
        resolve(department_code="999999", city_code="330102")
    assert codes(unknown) == [
        ("filter.departmentCode", ErrorCode.UNKNOWN_DEPARTMENT),
        ("filter.cityCode", ErrorCode.DIVISION_UNKNOWN),
    ]


def test_a_city_and_a_department() -> None:
    city = resolve(city_code="330200")
    assert city.scope.kind == "city" and city.scope.key == "C330200"
    department = resolve(department_code="330102", city_code="330100")
    assert department.scope.kind == "department" and department.scope.key == "D330102"
    assert department.scope.city is not None and department.scope.city.code == "330100"
    elsewhere = resolve(department_code="330102", city_code="330200")
    assert elsewhere.scope.kind == "empty" and elsewhere.scope.key is None


def test_a_reviewer_sees_their_own_department_only() -> None:
    mine = resolve(own_department="330102", may_see=_reviewer_of("330102"))
    assert mine.scope.key == "D330102"
    with pytest.raises(ProblemsFound) as other:
        resolve(department_code="330106", own_department="330102", may_see=_reviewer_of("330102"))
    assert codes(other) == [("filter.departmentCode", ErrorCode.WRONG_DEPARTMENT)]
    with pytest.raises(ProblemsFound) as other_city:
        resolve(city_code="330200", own_department="330102", may_see=_reviewer_of("330102"))
    assert codes(other_city) == [("filter.cityCode", ErrorCode.WRONG_DEPARTMENT)]
    same_city = resolve(city_code="330100", own_department="330102", may_see=_reviewer_of("330102"))
    assert same_city.scope.key == "D330102"
