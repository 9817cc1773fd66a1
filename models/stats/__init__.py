"""Registration statistics for the dashboards: counters kept current by every status change and
read in bounded time, whatever the number of registrations.

Scopes
    Every counter is kept for each scope a registration falls in: the province (``P``), its
    city (``C330100``) and its department (``D330102``). A dashboard query reads the rows of
    one scope: a bounded number (code lists, departments, and days of the date range).

A registration's *statistical department*
    The 会计管理部门 recorded with its latest status change (``registration_event
    .department_code`` of its newest event), once it has been submitted at least once; before
    that it has none. Its city is that department's city (reference data).

What each figure counts (``registrationStats``)
    Current state (``from``/``to`` do not apply):

    - ``total``, ``byStatus``: every registration by its current status. One never submitted
      (DRAFT, or withdrawn as a draft) has no department and counts only province-wide.
    - ``byDepartment``, ``byCity``: registrations with a statistical department, any status.
    - distributions (``byEducationLevel``, ``byDegree``, ``byQualificationLevel``,
      ``byEconomicType``, ``byIdType``): registrations whose submitted data stands, SUBMITTED
      (awaiting review) or APPROVED, read from their sections (frozen, equal to the latest
      submission, in both statuses). A RETURNED registration leaves them until it is
      resubmitted: its data is being corrected. Education level and degree are the highest of
      the full-time and part-time entries (the code list's order: first is highest);
      ``NONE`` when absent (no qualification, a residence instead of a work unit).
    - ``backlogByAge``: SUBMITTED registrations by whole days (China dates) since their latest
      submission: 0-1, 2-3, 4-7, over 7.

    Activity from ``from`` to ``to`` (inclusive, China dates of the events):

    - ``daily``: submissions (first and repeated) and decisions (approvals and returns) a day.
    - ``turnaroundHours``: hours from a submission to the decision on it, for the decisions of
      the range: median and 90th percentile from a histogram (1 h buckets to 24 h, then 2 h,
      6 h, 12 h, 24 h and 72 h buckets; over 90 days one bucket), interpolated in the bucket.
    - ``firstPassApprovalRate``: approvals of first submissions / decisions on first
      submissions.
    - ``returnsByReason``: returns citing each reason (a return citing a reason for several
      fields counts once); ``rate`` is that count / all decisions of the range.

Small groups (:func:`models.stats.privacy.protect`)
    No statistic names a person. A count of 1 to 4 people is never shown: ``count`` is null,
    ``display`` is ``"<5"``, ``suppressed`` is true (0 is shown). Within one answer, when such
    a count could be worked out by subtracting the shown cells from the breakdown's total (the
    total of a breakdown is assumed known), further cells are hidden, smallest first, with
    ``display`` ``"*"``. Departments are protected within their city (``byCity`` shows the
    city's total). Rates and percentiles are null when fewer than 5 decisions lie under them.
    The daily series and ``returnsByReason`` get the first rule only (their totals are not
    shown). The rule applies at every scope and to every role. It protects each answer on its
    own: a breakdown with no other cell left to hide (1 + 5 = 6) stays readable, and comparing
    answers for different filters (a department's ``total`` against the ``byDepartment`` of
    its city) is not guarded against.

Keeping the counters current
    :func:`~models.stats.counters.record_stats` runs inside :func:`models.history.record_transition`, in the same
    transaction as the status change: it subtracts what the registration contributed before
    the change and adds what it contributes after, and counts the event's activity. Counters
    are upserted atomically (``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``) in a
    fixed key order, so concurrent transitions neither lose an update nor deadlock on each
    other. :func:`~models.stats.rebuild.rebuild_aggregates` recomputes every counter from the raw
    tables.

The modules, one concern each (imports run down this list, never up):

    ``tables``            the counter tables, their keys (dimensions, metrics) and ``Deltas``
    ``rules``             pure counting rules: scopes, a registration's standing, one event's
                          activity, the turnaround histogram
    ``counters``          ``record_stats``: the counters kept current by every status change
    ``rebuild_postgres``  the set-based recount in SQL (PostgreSQL)
    ``rebuild``           ``rebuild_aggregates``: every counter recomputed from the raw tables
    ``privacy``           the small-group rule (``protect``, "<5" and "*")
    ``request``           the question: scope and date range checked (``resolve_request``)
    ``answer``            the answer to ``registrationStats`` (``registration_stats``)

This package re-exports the names the rest of the product uses.
"""

from models.stats.answer import (
    BACKLOG_LABELS,
    BacklogAge,
    BacklogCount,
    CityCount,
    CodeCount,
    DailyCount,
    DepartmentCount,
    ReasonCount,
    RegistrationStats,
    answer,
    backlog_age,
    registration_stats,
    today_in_china,
)
from models.stats.counters import apply_deltas, record_stats
from models.stats.privacy import COMPLEMENT, SMALL, Cell, protect, protect_one, rate
from models.stats.rebuild import RebuildReport, rebuild_aggregates
from models.stats.request import StatsRequest, StatsScope, resolve_request
from models.stats.rules import china_day, city_of, scopes_for
from models.stats.tables import (
    DISTRIBUTIONS,
    MIN_GROUP,
    NONE_CODE,
    PROVINCE_SCOPE,
    Dimension,
    Metric,
    StatsCounter,
    StatsDaily,
)

__all__ = [
    "BACKLOG_LABELS",
    "COMPLEMENT",
    "DISTRIBUTIONS",
    "MIN_GROUP",
    "NONE_CODE",
    "PROVINCE_SCOPE",
    "SMALL",
    "BacklogAge",
    "BacklogCount",
    "Cell",
    "CityCount",
    "CodeCount",
    "DailyCount",
    "DepartmentCount",
    "Dimension",
    "Metric",
    "ReasonCount",
    "RebuildReport",
    "RegistrationStats",
    "StatsCounter",
    "StatsDaily",
    "StatsRequest",
    "StatsScope",
    "answer",
    "apply_deltas",
    "backlog_age",
    "china_day",
    "city_of",
    "protect",
    "protect_one",
    "rate",
    "rebuild_aggregates",
    "record_stats",
    "registration_stats",
    "resolve_request",
    "scopes_for",
    "today_in_china",
]
