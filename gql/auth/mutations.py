"""Sign-in mutations: development login, staff login, refresh and logout."""

from __future__ import annotations

from datetime import date

import strawberry
import structlog
from sqlmodel import select

from gql.auth.resolvers import load_viewer
from gql.auth.types import AuthPayload, LogoutPayload, StaffRole
from gql.context import Info
from gql.errors import Refused, one_error, refused, refused_now
from gql.permissions import SIGNED_IN
from integrations.identity.base import IdentityError, IdentityProvider, ProviderIdentity
from models.accounts import LoginIdentity, SessionKind, StaffAccount, person_key
from models.accounts import StaffRole as DomainStaffRole
from models.contact import check_phone
from models.db import transaction, utcnow
from models.errors import ErrorCode, FieldProblem, ProblemsFound, RuleViolation
from models.id_numbers import check_id_number
from models.limits import (
    MAX_DEV_LOGIN_NAME,
    MAX_PASSWORD_INPUT,
    MAX_PROVIDER_CREDENTIAL,
    MAX_REFRESH_TOKEN_INPUT,
    MAX_USERNAME_INPUT,
)
from models.normalize import normalize_text
from services.applicants import VerifiedPerson, sign_in_applicant
from services.principal import Principal, role_for_department
from services.sessions import (
    IssuedTokens,
    RefreshRejected,
    RefreshReplayed,
    open_session,
    refresh_session,
    resolve_principal,
    revoke_session,
)
from services.staff import staff_login

log = structlog.get_logger(__name__)


@strawberry.input(description="Development only: sign in as anyone.")
class DevLoginInput:
    name: str
    id_type: str | None = strawberry.field(
        default="01", description="code from formOptions.idTypes"
    )
    id_number: str | None = None
    phone: str | None = None
    reviewer_department_code: str | None = strawberry.field(
        default=None, description="Sign in as a reviewer of this department (330000: the province)"
    )
    staff_role: StaffRole | None = strawberry.field(
        default=None, description="Sign in as staff with this role (DASHBOARD needs no department)"
    )


@strawberry.input
class StaffLoginInput:
    username: str
    password: str


async def _payload(info: Info, tokens: IssuedTokens, principal: Principal) -> AuthPayload:
    return AuthPayload(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        viewer=await load_viewer(info.context.db, info.context.reference, principal),
    )


def _verified_person(data: DevLoginInput, today: date) -> VerifiedPerson:
    problems: list[FieldProblem] = []
    name = normalize_text(data.name)
    if not name:
        problems.append(FieldProblem("name", ErrorCode.REQUIRED))
    elif len(name) > MAX_DEV_LOGIN_NAME:
        problems.append(FieldProblem("name", ErrorCode.TOO_LONG))
    id_number = ""
    id_type = data.id_type or "01"
    if not data.id_number:
        problems.append(FieldProblem("idNumber", ErrorCode.REQUIRED))
    else:
        try:
            id_number = check_id_number(id_type, data.id_number, today=today).number
        except RuleViolation as exc:
            field = "idType" if exc.code is ErrorCode.UNKNOWN_CODE else "idNumber"
            problems.append(FieldProblem(field, exc.code))
    phone = None
    if data.phone:
        try:
            phone = check_phone(data.phone)
        except RuleViolation as exc:
            problems.append(FieldProblem("phone", exc.code))
    if problems:
        raise ProblemsFound(problems)
    return VerifiedPerson(name=name, id_type=id_type, id_number=id_number, phone=phone)


async def _dev_staff(info: Info, data: DevLoginInput) -> StaffAccount:
    role = DomainStaffRole(data.staff_role.value) if data.staff_role else None
    code = data.reviewer_department_code
    if code is not None and info.context.reference.department(code) is None:
        raise ProblemsFound([FieldProblem("reviewerDepartmentCode", ErrorCode.UNKNOWN_DEPARTMENT)])
    if role is None:
        role = role_for_department(code or "")
    if role is DomainStaffRole.REVIEWER and code is None:
        raise ProblemsFound([FieldProblem("reviewerDepartmentCode", ErrorCode.REQUIRED)])
    department = code if role is DomainStaffRole.REVIEWER else None
    username = f"dev{role.value[:4].lower()}{department or ''}"
    async with transaction(info.context.db) as db:
        staff = (
            await db.exec(select(StaffAccount).where(StaffAccount.username == username))
        ).first()
        if staff is None:
            staff = StaffAccount(
                username=username,
                display_name=normalize_text(data.name) or username,
                password_hash="!dev-login-only",  # matches no password
                role=role,
                department_code=department,
            )
            db.add(staff)
            await db.flush()
        return staff


async def _sign_in_applicant(
    info: Info, provider: str, subject: str, person: VerifiedPerson | None
) -> AuthPayload:
    """Record the login, link it to the person when verified, and open a session. A verified
    sign-in made while signed in with an unverified login links that login to the person too,
    so the same applicant reaches the same registration from either app."""
    now = utcnow()
    current = info.context.principal
    async with transaction(info.context.db) as db:
        identity = await sign_in_applicant(
            db,
            provider=provider,
            subject=subject,
            verified=person,
            person_secret=info.context.services.person_secret,
            now=now,
        )
        if (
            person is not None
            and current is not None
            and current.is_applicant
            and current.person_id is None
            and current.login_identity_id is not None
        ):
            earlier = await db.get(LoginIdentity, current.login_identity_id)
            if earlier is not None and earlier.person_id is None:
                earlier.person_id = identity.person_id
                db.add(earlier)
        tokens = await open_session(
            db,
            info.context.session_config,
            kind=SessionKind.APPLICANT,
            now=now,
            login_identity_id=identity.id,
        )
    principal = Principal(
        kind=SessionKind.APPLICANT,
        session_id=tokens.session_id,
        login_identity_id=identity.id,
        person_id=identity.person_id,
    )
    return await _payload(info, tokens, principal)


async def _sign_in_staff(info: Info, staff: StaffAccount) -> AuthPayload:
    """Open a staff session for an account whose credentials were checked."""
    async with transaction(info.context.db) as db:
        tokens = await open_session(
            db,
            info.context.session_config,
            kind=SessionKind.STAFF,
            now=utcnow(),
            staff_account_id=staff.id,
        )
    principal = Principal(
        kind=SessionKind.STAFF,
        session_id=tokens.session_id,
        staff_id=staff.id,
        role=staff.role,
        department_code=staff.department_code,
    )
    return await _payload(info, tokens, principal)


def _trusted_person(identity: ProviderIdentity, today: date) -> VerifiedPerson | None:
    """The provider's real-name fields, normalised; None when absent or not a valid number."""
    if not (identity.verified and identity.name and identity.id_type and identity.id_number):
        return None
    try:
        number = check_id_number(identity.id_type, identity.id_number, today=today).number
    except RuleViolation as exc:
        log.warning("identity.unusable_id_number", provider=identity.provider, code=exc.code.value)
        return None
    phone = None
    if identity.phone:
        try:
            phone = check_phone(identity.phone)
        except RuleViolation:
            phone = None
    return VerifiedPerson(
        name=normalize_text(identity.name), id_type=identity.id_type, id_number=number, phone=phone
    )


async def _provider_login(
    info: Info, provider: IdentityProvider, field: str, credential: str
) -> AuthPayload:
    if not credential.strip() or len(credential) > MAX_PROVIDER_CREDENTIAL:
        return AuthPayload(errors=one_error(field, ErrorCode.PROVIDER_REJECTED))
    try:
        identity = await provider.authenticate(credential.strip())
    except IdentityError as exc:
        log.info("identity.sign_in_refused", code=exc.code.value, provider_code=exc.provider_code)
        return AuthPayload(errors=one_error(field, exc.code))
    person = _trusted_person(identity, utcnow().date())
    return await _sign_in_applicant(info, identity.provider, identity.subject, person)


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Development only: sign in as an applicant or as staff.")
    async def dev_login(self, info: Info, input: DevLoginInput) -> AuthPayload:
        settings = info.context.settings
        if not (settings.is_dev and settings.dev_login_enabled):
            return AuthPayload(errors=one_error("", ErrorCode.DEV_LOGIN_DISABLED))
        now = utcnow()
        if input.reviewer_department_code is not None or input.staff_role is not None:
            staff = await refused(_dev_staff(info, input))
            if isinstance(staff, Refused):
                return AuthPayload(errors=staff.errors)
            return await _sign_in_staff(info, staff)
        person = refused_now(lambda: _verified_person(input, now.date()))
        if isinstance(person, Refused):
            return AuthPayload(errors=person.errors)
        secret = info.context.services.person_secret
        subject = person_key(secret, person.id_type, person.id_number)
        return await _sign_in_applicant(info, "dev", subject, person)

    @strawberry.mutation(
        description="Sign in from the Alipay mini-program with the authCode of my.getAuthCode."
    )
    async def login_with_alipay(self, info: Info, auth_code: str) -> AuthPayload:
        return await _provider_login(info, info.context.services.alipay, "authCode", auth_code)

    @strawberry.mutation(
        description="Sign in with a 浙里办 (浙江政务服务网) single sign-on ticket."
    )
    async def login_with_zlb(self, info: Info, ticket: str) -> AuthPayload:
        return await _provider_login(info, info.context.services.zlb, "ticket", ticket)

    @strawberry.mutation(description="Staff sign-in with username and password.")
    async def staff_login(self, info: Info, input: StaffLoginInput) -> AuthPayload:
        services = info.context.services
        if not await services.login_limiter.hit(info.context.client_address):
            return AuthPayload(errors=one_error("username", ErrorCode.TOO_MANY_ATTEMPTS))
        async with transaction(info.context.db) as db:
            # refused inside the transaction: failed attempts are still counted (committed)
            staff = await refused(
                staff_login(
                    db,
                    services.login_backoff,
                    username=input.username[:MAX_USERNAME_INPUT],
                    password=input.password[:MAX_PASSWORD_INPUT],
                    address=info.context.client_address,
                )
            )
        if isinstance(staff, Refused):
            return AuthPayload(errors=staff.errors)
        return await _sign_in_staff(info, staff)

    @strawberry.mutation(
        description=(
            "New tokens for a refresh token, which is then spent: sent again within 30 seconds "
            "it returns the same new pair; later, the whole session ends (sign in again)."
        )
    )
    async def refresh_session(self, info: Info, refresh_token: str) -> AuthPayload:
        now = utcnow()
        replayed: str | None = None
        try:
            async with transaction(info.context.db) as db:
                try:
                    tokens = await refresh_session(
                        db,
                        info.context.session_config,
                        refresh_token[:MAX_REFRESH_TOKEN_INPUT],
                        now=now,
                    )
                except RefreshReplayed as replay:  # the session's revocation is committed
                    tokens = None
                    replayed = replay.session_id
                principal = (
                    await resolve_principal(db, tokens.session_id, now=now) if tokens else None
                )
        except RefreshRejected:
            return AuthPayload(errors=one_error("refreshToken", ErrorCode.REFRESH_TOKEN_INVALID))
        if replayed is not None:  # every worker closes the replayed session's sockets
            await info.context.services.revocations.announce([replayed])
        if tokens is None or principal is None:
            log.info("refresh_token_replayed" if tokens is None else "refresh_without_principal")
            return AuthPayload(errors=one_error("refreshToken", ErrorCode.REFRESH_TOKEN_INVALID))
        return await _payload(info, tokens, principal)

    @strawberry.mutation(
        description="Sign out: the session's tokens stop working.", permission_classes=SIGNED_IN
    )
    async def logout(self, info: Info) -> LogoutPayload:
        principal = info.context.principal
        assert principal is not None
        async with transaction(info.context.db) as db:
            await revoke_session(db, principal.session_id, now=utcnow())
        # committed: every worker closes this session's sockets (services.revocations)
        await info.context.services.revocations.announce([principal.session_id])
        return LogoutPayload(ok=True)
