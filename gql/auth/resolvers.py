"""The signed-in user, read through models/."""

from __future__ import annotations

from gql.auth.types import Viewer, ViewerKind
from gql.reference.types import Department, Option
from models.accounts import StaffAccount, identity_with_person
from models.db import SessionFactory
from models.id_numbers import mask_id_number, mask_phone
from models.reference import ReferenceData
from services.principal import Principal


async def load_viewer(db: SessionFactory, reference: ReferenceData, principal: Principal) -> Viewer:
    async with db() as session:
        if principal.is_applicant:
            identity, person = await identity_with_person(
                session, principal.login_identity_id, principal.person_id
            )
            id_type_name = reference.name_of("id_document_type", person.id_type) if person else None
            return Viewer(
                kind=ViewerKind.APPLICANT,
                identity_verified=person is not None,
                name=person.name if person else None,
                id_type=Option(code=person.id_type, name=id_type_name or "") if person else None,
                masked_id_number=mask_id_number(person.id_number) if person else None,
                masked_phone=mask_phone(person.phone) if person and person.phone else None,
                provider=identity.provider if identity else None,
                username=None,
                role=None,
                department=None,
            )
        staff = await session.get(StaffAccount, principal.staff_id)
        department = (
            reference.department(staff.department_code) if staff and staff.department_code else None
        )
        return Viewer(
            kind=ViewerKind.STAFF,
            identity_verified=True,
            name=staff.display_name if staff else None,
            id_type=None,
            masked_id_number=None,
            masked_phone=None,
            provider=None,
            username=staff.username if staff else None,
            role=staff.role if staff else None,
            department=Department.of(department) if department else None,
        )
