"""Signing in an applicant: record the provider subject and link it to a person.

Identities link on the person (a keyed hash of the ID type and number), so the same applicant
signing in through Alipay and through 浙里办 reaches the same registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import LoginIdentity, Person, person_key


@dataclass(frozen=True, slots=True)
class VerifiedPerson:
    """The real-name identity an identity provider vouched for (already validated)."""

    name: str
    id_type: str
    id_number: str
    phone: str | None


async def _person_for(
    db: AsyncSession, secret: bytes, who: VerifiedPerson, now: datetime
) -> Person:
    key = person_key(secret, who.id_type, who.id_number)
    person = (await db.exec(select(Person).where(Person.person_key == key))).first()
    if person is None:
        person = Person(
            person_key=key,
            name=who.name,
            id_type=who.id_type,
            id_number=who.id_number,
            phone=who.phone,
        )
    else:
        # the newest login is the freshest source of the name and phone
        person.name = who.name
        if who.phone:
            person.phone = who.phone
        person.updated_at = now
    db.add(person)
    await db.flush()
    return person


async def sign_in_applicant(
    db: AsyncSession,
    *,
    provider: str,
    subject: str,
    verified: VerifiedPerson | None,
    person_secret: bytes,
    now: datetime,
) -> LoginIdentity:
    """The login identity for ``provider``/``subject``, linked to the person when verified."""
    identity = (
        await db.exec(
            select(LoginIdentity).where(
                LoginIdentity.provider == provider, LoginIdentity.subject == subject
            )
        )
    ).first()
    if identity is None:
        identity = LoginIdentity(provider=provider, subject=subject)
    identity.last_login_at = now
    if verified is not None:
        person = await _person_for(db, person_secret, verified, now)
        identity.person_id = person.id
    db.add(identity)
    await db.flush()
    return identity
