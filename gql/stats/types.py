"""Statistics as the dashboards read them: plain objects built once from models.stats."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from gql.errors import FieldError
from gql.reference.types import Department, Division, Option
from gql.registration.events import RegistrationStatus
from models import stats as domain
from models.reference import ReferenceData

strawberry.enum(
    domain.BacklogAge,
    name="BacklogAge",
    description="Days a SUBMITTED registration has waited since its latest submission",
)
BacklogAge = domain.BacklogAge

SMALL_GROUP_RULE = (
    "Small groups: a count of 1-4 people is never shown (count null, display '<5', "
    "suppressed true); 0 is shown. When a '<5' could be worked out from the other cells of "
    "the same breakdown and its total, further cells are hidden, smallest first (display '*'). "
    "Rates and percentiles are null when fewer than 5 decisions lie under them."
)


@strawberry.input(description="Which registrations: one department or city, and a date range.")
class RegistrationStatsFilter:
    department_code: str | None = strawberry.field(
        default=None,
        description="A 会计管理部门's code; a reviewer may only ask for their own (the default)",
    )
    city_code: str | None = strawberry.field(
        default=None, description="A city's division code, e.g. 330100"
    )
    from_: date | None = strawberry.field(
        default=None,
        name="from",
        description="First day (China date) of the activity figures; default: to - 29 days",
    )
    to: date | None = strawberry.field(
        default=None, description="Last day (inclusive) of the activity figures; default: today"
    )


@strawberry.enum(description="How far a statistics answer reaches")
class StatsScopeKind(Enum):
    PROVINCE = "province"
    CITY = "city"
    DEPARTMENT = "department"
    EMPTY = "empty"


@strawberry.type(description="The registrations an answer covers (after defaults and limits).")
class StatsScope:
    kind: StatsScopeKind
    department: Department | None
    city: Division | None

    @classmethod
    def of(cls, scope: domain.StatsScope) -> StatsScope:
        return cls(
            kind=StatsScopeKind(scope.kind),
            department=Department.of(scope.department) if scope.department else None,
            city=Division.of(scope.city) if scope.city else None,
        )


@strawberry.type(description="A count under the small-group rule. " + SMALL_GROUP_RULE)
class StatusCount:
    status: RegistrationStatus
    count: int | None = strawberry.field(description="null when suppressed")
    display: str = strawberry.field(description="The count as text, or '<5' / '*' when hidden")
    suppressed: bool


@strawberry.type(description="Registrations of one department (any status, once submitted).")
class DepartmentCount:
    department: Department
    count: int | None
    display: str
    suppressed: bool


@strawberry.type(description="Registrations of one city (any status, once submitted).")
class CityCount:
    city: Division
    count: int | None
    display: str
    suppressed: bool


@strawberry.type(description="Registrations (SUBMITTED or APPROVED) with one code of a list.")
class OptionCount:
    option: Option
    count: int | None
    display: str
    suppressed: bool


@strawberry.type(description="One day (China date): submissions and decisions that day.")
class DailyCount:
    date: date
    submitted: int | None = strawberry.field(description="First and repeated submissions")
    decided: int | None = strawberry.field(description="Approvals and returns")
    submitted_display: str
    decided_display: str
    suppressed: bool = strawberry.field(description="Either count is hidden")


@strawberry.type(description="Hours from a submission to its decision, decisions in the range.")
class Turnaround:
    median: float | None
    p90: float | None


@strawberry.type(description="Returns in the range citing one reason (once per return).")
class ReasonCount:
    reason: Option
    count: int | None
    display: str
    suppressed: bool
    rate: float | None = strawberry.field(description="count / all decisions in the range")


@strawberry.type(description="SUBMITTED registrations by days waited since their submission.")
class BacklogCount:
    bucket: BacklogAge
    label: str
    count: int | None
    display: str
    suppressed: bool


def _option_counts(rows: list[domain.CodeCount]) -> list[OptionCount]:
    return [
        OptionCount(
            option=Option(code=r.code, name=r.name),
            count=r.cell.count,
            display=r.cell.display,
            suppressed=r.cell.suppressed,
        )
        for r in rows
    ]


@strawberry.type(
    description="Statistics for a dashboard. Current-state figures (total, byStatus, "
    "byDepartment, byCity, the distributions, backlogByAge) ignore from/to; activity figures "
    "(daily, turnaroundHours, firstPassApprovalRate, returnsByReason) count the events from "
    "`from` to `to`. The distributions count SUBMITTED and APPROVED registrations; byStatus "
    "counts drafts province-wide only. " + SMALL_GROUP_RULE
)
class RegistrationStats:
    errors: list[FieldError]
    scope: StatsScope | None = None
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    minimum_group_size: int = domain.MIN_GROUP
    total: int | None = strawberry.field(default=None, description="null when suppressed")
    total_display: str = ""
    by_status: list[StatusCount] = strawberry.field(default_factory=list)
    by_department: list[DepartmentCount] = strawberry.field(default_factory=list)
    by_city: list[CityCount] = strawberry.field(default_factory=list)
    daily: list[DailyCount] = strawberry.field(default_factory=list)
    by_education_level: list[OptionCount] = strawberry.field(
        default_factory=list, description="Highest of full-time and part-time education"
    )
    by_degree: list[OptionCount] = strawberry.field(
        default_factory=list, description="Highest of full-time and part-time degree"
    )
    by_qualification_level: list[OptionCount] = strawberry.field(default_factory=list)
    by_economic_type: list[OptionCount] = strawberry.field(default_factory=list)
    by_id_type: list[OptionCount] = strawberry.field(default_factory=list)
    turnaround_hours: Turnaround = strawberry.field(
        default_factory=lambda: Turnaround(median=None, p90=None)
    )
    first_pass_approval_rate: float | None = strawberry.field(
        default=None,
        description="Approvals of first submissions / decisions on first submissions",
    )
    returns_by_reason: list[ReasonCount] = strawberry.field(default_factory=list)
    backlog_by_age: list[BacklogCount] = strawberry.field(default_factory=list)

    @classmethod
    def failed(cls, errors: list[FieldError]) -> RegistrationStats:
        return cls(errors=errors)

    @classmethod
    def of(cls, result: domain.RegistrationStats, reference: ReferenceData) -> RegistrationStats:
        distributions = result.distributions
        return cls(
            errors=[],
            scope=StatsScope.of(result.request.scope),
            from_=result.request.start,
            to=result.request.end,
            total=result.total.count,
            total_display=result.total.display,
            by_status=[
                StatusCount(
                    status=RegistrationStatus(r.code),
                    count=r.cell.count,
                    display=r.cell.display,
                    suppressed=r.cell.suppressed,
                )
                for r in result.by_status
            ],
            by_department=[
                DepartmentCount(
                    department=Department.of(r.department),
                    count=r.cell.count,
                    display=r.cell.display,
                    suppressed=r.cell.suppressed,
                )
                for r in result.by_department
            ],
            by_city=[
                CityCount(
                    city=Division.of(r.city),
                    count=r.cell.count,
                    display=r.cell.display,
                    suppressed=r.cell.suppressed,
                )
                for r in result.by_city
            ],
            daily=[
                DailyCount(
                    date=d.day,
                    submitted=d.submitted.count,
                    decided=d.decided.count,
                    submitted_display=d.submitted.display,
                    decided_display=d.decided.display,
                    suppressed=d.submitted.suppressed or d.decided.suppressed,
                )
                for d in result.daily
            ],
            by_education_level=_option_counts(distributions[domain.Dimension.EDUCATION_LEVEL]),
            by_degree=_option_counts(distributions[domain.Dimension.DEGREE]),
            by_qualification_level=_option_counts(
                distributions[domain.Dimension.QUALIFICATION_LEVEL]
            ),
            by_economic_type=_option_counts(distributions[domain.Dimension.ECONOMIC_TYPE]),
            by_id_type=_option_counts(distributions[domain.Dimension.ID_TYPE]),
            turnaround_hours=Turnaround(median=result.turnaround_median, p90=result.turnaround_p90),
            first_pass_approval_rate=result.first_pass_approval_rate,
            returns_by_reason=[
                ReasonCount(
                    reason=Option(code=r.code, name=r.name),
                    count=r.cell.count,
                    display=r.cell.display,
                    suppressed=r.cell.suppressed,
                    rate=r.rate,
                )
                for r in result.returns_by_reason
            ],
            backlog_by_age=[
                BacklogCount(
                    bucket=b.bucket,
                    label=domain.BACKLOG_LABELS[b.bucket],
                    count=b.cell.count,
                    display=b.cell.display,
                    suppressed=b.cell.suppressed,
                )
                for b in result.backlog_by_age
            ],
        )


@strawberry.type(description="A short-lived link to a CSV export of a department's registrations.")
class RegistrationExport:
    errors: list[FieldError]
    url: str | None = strawberry.field(
        default=None, description="GET it before expiresAt; signed, no Authorization header"
    )
    expires_at: datetime | None = None
    department: Department | None = None
    masked_identity: bool = strawberry.field(
        default=True, description="Names, ID numbers and phones masked (the DASHBOARD role)"
    )
