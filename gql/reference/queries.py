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
        description="Divisions under parentCode (its counties); without it, the cities of Zhejiang."
    )
    def divisions(self, info: Info, parent_code: str | None = None) -> list[Division]:
        return [Division.of(d) for d in info.context.reference.children(parent_code)]
