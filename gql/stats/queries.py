"""registrationStats and the export link. Thin: models/stats/ and services/csv_export.py decide."""

from __future__ import annotations

import strawberry

from gql.context import Info
from gql.errors import Refused, field_errors, refused_now
from gql.permissions import STATISTICS
from gql.reference.types import Department
from gql.scalars import unparsed_dates
from gql.stats.types import RegistrationExport, RegistrationStats, RegistrationStatsFilter
from models import stats
from models.db import utcnow
from models.limits import MAX_DEPARTMENT_CODE_INPUT
from services.csv_export import export_link


@strawberry.type
class StatsQuery:
    @strawberry.field(
        permission_classes=STATISTICS,
        description="Statistics for the dashboards (DASHBOARD, PROVINCE; a REVIEWER for their "
        "own department). Bad filters come back as errors (filter.from, filter.to, "
        "filter.departmentCode, filter.cityCode).",
    )
    async def registration_stats(
        self, info: Info, filter: RegistrationStatsFilter | None = None
    ) -> RegistrationStats:
        principal = info.context.principal
        assert principal is not None  # STATISTICS
        wanted = filter or RegistrationStatsFilter()
        today = stats.china_day(utcnow())
        reference = info.context.reference
        unparsed = unparsed_dates({"filter.from": wanted.from_, "filter.to": wanted.to})
        if unparsed:
            return RegistrationStats.failed(field_errors(unparsed))
        request = refused_now(
            lambda: stats.resolve_request(
                reference,
                department_code=wanted.department_code,
                city_code=wanted.city_code,
                start=wanted.from_,
                end=wanted.to,
                today=today,
                own_department=principal.effective_department,
                may_see=principal.may_see_department,
            )
        )
        if isinstance(request, Refused):
            return RegistrationStats.failed(request.errors)
        async with info.context.db() as db:
            result = await stats.registration_stats(db, reference, request, today=today)
        return RegistrationStats.of(result, reference)

    @strawberry.field(
        permission_classes=STATISTICS,
        description="A link (valid 5 minutes) to a CSV of a department's submitted "
        "registrations. Identity is masked for the DASHBOARD role. A reviewer's default and "
        "only department is their own.",
    )
    def registration_export(
        self, info: Info, department_code: str | None = None
    ) -> RegistrationExport:
        principal = info.context.principal
        assert principal is not None  # STATISTICS
        settings = info.context.settings
        link = refused_now(
            lambda: export_link(
                secret=settings.secret_key.get_secret_value(),
                base_url=settings.base_url,
                reference=info.context.reference,
                principal=principal,
                department_code=department_code[:MAX_DEPARTMENT_CODE_INPUT]
                if department_code
                else None,
                now=utcnow(),
            )
        )
        if isinstance(link, Refused):
            return RegistrationExport(errors=link.errors)
        return RegistrationExport(
            errors=[],
            url=link.url,
            expires_at=link.expires_at,
            department=Department.of(link.department),
            masked_identity=link.masked,
        )
