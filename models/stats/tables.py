"""The statistics counter tables, their keys (scopes, dimensions, metrics) and the
deltas a status change makes to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import Table
from sqlmodel import Field, SQLModel

from models.registration import Status

MIN_GROUP = 5
MAX_RANGE_YEARS = 5
DEFAULT_RANGE_DAYS = 30
NONE_CODE = "NONE"

PROVINCE_SCOPE = "P"

# registrations whose submitted data stands: the distributions count them
COUNTED_STATUSES = frozenset({Status.SUBMITTED, Status.APPROVED})
DECISIONS = frozenset({Status.APPROVED, Status.RETURNED})


class Dimension(StrEnum):
    """Stock counters (``stats_counter.dimension``)."""

    STATUS = "status"
    DEPARTMENT = "department"
    CITY = "city"
    EDUCATION_LEVEL = "education_level"
    DEGREE = "degree"
    QUALIFICATION_LEVEL = "qualification_level"
    ECONOMIC_TYPE = "economic_type"
    ID_TYPE = "id_type"


class Metric(StrEnum):
    """Day counters (``stats_daily.metric``); ``code`` is empty unless noted."""

    SUBMITTED = "submitted"
    DECIDED = "decided"
    APPROVED = "approved"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"  # after a submission
    FIRST_DECIDED = "first_decided"
    FIRST_PASS = "first_pass"
    TURNAROUND = "turnaround"  # code: the bucket's lower bound in hours
    RETURN_REASON = "return_reason"  # code: the reason
    WAITING = "waiting"  # day: of the latest submission of a SUBMITTED registration


# code list behind each distribution, and the name shown for NONE
DISTRIBUTIONS: dict[Dimension, tuple[str, str | None]] = {
    Dimension.EDUCATION_LEVEL: ("education_level", "未填写学历"),
    Dimension.DEGREE: ("degree", "未填写学历"),
    Dimension.QUALIFICATION_LEVEL: ("qualification_level", "未取得专业技术资格"),
    Dimension.ECONOMIC_TYPE: ("unit_economic_type", "无工作单位（按居住地登记）"),
    Dimension.ID_TYPE: ("id_document_type", None),
}


class StatsCounter(SQLModel, table=True):
    """Current-state counters: registrations of a scope by one dimension's code."""

    __tablename__ = "stats_counter"

    scope: str = Field(primary_key=True, max_length=8)
    dimension: str = Field(primary_key=True, max_length=24)
    code: str = Field(primary_key=True, max_length=32)
    n: int = 0


class StatsDaily(SQLModel, table=True):
    """Activity counters of a scope, by metric and China date."""

    __tablename__ = "stats_daily"

    scope: str = Field(primary_key=True, max_length=8)
    metric: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    code: str = Field(primary_key=True, default="", max_length=32)
    n: int = 0


COUNTER_TABLE: Table = SQLModel.metadata.tables["stats_counter"]
DAILY_TABLE: Table = SQLModel.metadata.tables["stats_daily"]

CounterKey = tuple[str, str, str]  # scope, dimension, code
DailyKey = tuple[str, str, date, str]  # scope, metric, day, code


@dataclass
class Deltas:
    counters: dict[CounterKey, int] = field(default_factory=dict)
    daily: dict[DailyKey, int] = field(default_factory=dict)

    def count(self, key: CounterKey, n: int) -> None:
        self.counters[key] = self.counters.get(key, 0) + n

    def day(self, key: DailyKey, n: int) -> None:
        self.daily[key] = self.daily.get(key, 0) + n
