"""Who is signed in."""

from __future__ import annotations

import strawberry

from gql.auth.resolvers import load_viewer
from gql.auth.types import Viewer
from gql.context import Info


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The signed-in user, or null when no valid token was sent.")
    async def viewer(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal is None:
            return None
        return await load_viewer(info.context.db, info.context.reference, principal)
