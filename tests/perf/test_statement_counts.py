"""How many SQL statements the hot requests run on PostgreSQL: exact, so they cannot creep back.

The counts come from the engine's statement listener (models/statements.py), the same one
that feeds the metrics; BEGIN/COMMIT are not statements the listener sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.statements import count_statements
from tests import wizard as w
from tests.api import Api, running_api, settings_for

VIEWER = "{ viewer { kind } }"


async def _counted(
    api: Api, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    with count_statements() as log:
        data = await api.data(query, variables)
    return log.count, data


async def test_statements_per_request(postgres_url: str, tmp_path: Path) -> None:
    async with running_api(settings_for(postgres_url, tmp_path)) as api:
        applicant = await w.sign_in(api)
        registration = await w.fill_wizard(applicant)

        viewer, data = await _counted(applicant, VIEWER)
        assert data == {"viewer": {"kind": "APPLICANT"}}

        read, data = await _counted(applicant, w.MY_REGISTRATION)
        assert data["myRegistration"]["id"] == registration["id"]
        assert data["myRegistration"]["qualification"] is not None

        basic = {**w.BASIC, "remarks": "改一个字"}
        variables = {
            "input": {
                "registrationId": registration["id"],
                "expectedVersion": registration["version"],
                **basic,
            }
        }
        save, data = await _counted(applicant, w.SAVE_BASIC, variables)
        payload = data["saveBasicInfo"]
        assert payload["errors"] == []
        assert payload["registration"]["basicInfo"]["remarks"] == "改一个字"
        assert payload["registration"]["version"] == registration["version"] + 1

        print(f"\nSQL statements: viewer {viewer}, myRegistration {read}, saveBasicInfo {save}")
        assert (viewer, read, save) == (3, 3, 5)
