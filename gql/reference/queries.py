"""Queries over reference data: public, needed before sign-in to render the form."""

from __future__ import annotations

import strawberry

from gql.context import Info
from gql.reference.types import Division, FormOptions


@strawberry.type
class ReferenceQuery:
    @strawberry.field(description="Every code list of the form.")
    def form_options(self, info: Info) -> FormOptions:
        cached = info.context.services.cache.get("formOptions")
        if cached is None:
            cached = FormOptions.build(info.context.reference)
            info.context.services.cache["formOptions"] = cached
        return cached

    @strawberry.field(
        description="Divisions under parentCode; without it, the cities of Zhejiang. Under a "
        "city: first the city itself as 市本级 (its own code, level CITY: a work unit registered "
        "at city level, reviewed by the city's 财政局; a residence always names a county), "
        "then its counties."
    )
    def divisions(self, info: Info, parent_code: str | None = None) -> list[Division]:
        reference = info.context.reference
        own = reference.city_level(parent_code) if parent_code else None
        listed = [Division.of(d) for d in reference.children(parent_code)]
        return [Division.of(own), *listed] if own is not None else listed
