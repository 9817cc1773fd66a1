"""The provider-neutral face of sign-in identity providers (Alipay, 浙里办).

A provider turns a one-time credential from the mini-program (an Alipay ``authCode`` or a
浙里办 ``ticket``) into a :class:`ProviderIdentity`. Every failure is an
:class:`IdentityError` carrying a stable :class:`~models.errors.ErrorCode`; its message is
safe to log: it never holds a name, ID number or phone number.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol, Self

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from config.backend import Backend
from models.errors import ErrorCode

log = structlog.get_logger(__name__)

ProviderName = Literal["alipay", "zlb"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime (tests inject a skewed clock)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProviderIdentity:
    """Who signed in, as the provider reports it.

    ``verified`` is True only when the provider gave the real-name fields (name, ID type,
    ID number) at an acceptable level; only then are ``name``, ``id_type`` and
    ``id_number`` set. ``id_type`` is a code of our ``id_document_type`` list ("01".."99").
    """

    provider: ProviderName
    subject: str
    verified: bool
    name: str | None
    id_type: str | None
    id_number: str | None
    phone: str | None

    def __repr__(self) -> str:  # keep personal data out of logs and tracebacks
        return (
            f"ProviderIdentity(provider={self.provider!r}, subject={self.subject!r}, "
            f"verified={self.verified!r}, id_type={self.id_type!r}, "
            f"name={'<set>' if self.name else None}, "
            f"id_number={'<set>' if self.id_number else None}, "
            f"phone={'<set>' if self.phone else None})"
        )

    __str__ = __repr__


class IdentityError(Exception):
    """A sign-in failed. ``code`` is what the API reports; ``detail`` is for the logs.

    ``provider_code`` is the provider's own error code when there is one (an Alipay
    ``sub_code`` such as ``isv.code-invalid``, a simpleauth ``result`` such as ``6001``, an
    IRS ``errorCode``); it never contains personal data either.
    """

    def __init__(self, code: ErrorCode, detail: str, *, provider_code: str | None = None) -> None:
        self.code = code
        self.detail = detail
        self.provider_code = provider_code
        super().__init__(f"{code}: {detail}")


class IdentityProvider(Backend, Protocol):
    async def authenticate(self, credential: str) -> ProviderIdentity: ...


class DisabledProvider:
    """Stands in for a provider that is not configured: every sign-in is refused."""

    def __init__(self, provider: ProviderName) -> None:
        self.provider = provider

    async def authenticate(self, credential: str) -> ProviderIdentity:
        raise IdentityError(ErrorCode.PROVIDER_DISABLED, f"{self.provider} sign-in is disabled")

    async def ping(self) -> bool:
        return True  # nothing to reach: refusing is all it does

    async def aclose(self) -> None:
        return None


class GatewayClient:
    """What the Alipay and 浙里办 clients share: an HTTP client they own unless handed one,
    ``ping``/``aclose`` (the Backend protocol) and use as an async context manager."""

    def __init__(self, http: httpx.AsyncClient | None) -> None:
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()

    async def ping(self) -> bool:
        """Configured and open: the gateway itself is only reached by a real sign-in."""
        return not self._http.is_closed

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def require_verified(identity: ProviderIdentity) -> ProviderIdentity:
    """The identity itself, or IDENTITY_NOT_VERIFIED when it carries no verified real name."""
    if not identity.verified:
        raise IdentityError(
            ErrorCode.IDENTITY_NOT_VERIFIED, f"{identity.provider} identity is not verified"
        )
    return identity


_CREDENTIAL_RE = re.compile(r"[\x21-\x7e]{1,512}")


def check_credential(provider: ProviderName, credential: str) -> str:
    """Refuse an empty or absurd credential before calling the provider."""
    value = credential.strip() if isinstance(credential, str) else ""
    if not _CREDENTIAL_RE.fullmatch(value):
        raise IdentityError(ErrorCode.PROVIDER_REJECTED, f"{provider}: malformed credential")
    return value


# Errors after which the request certainly never reached the provider: always safe to retry,
# even for a call that consumes a single-use credential.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Errors after which the provider may have processed the request: retried only for reads.
_MAYBE_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

RETRY_ATTEMPTS = 3


async def send_with_retry(
    provider: ProviderName,
    what: str,
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    idempotent: bool,
    attempts: int = RETRY_ATTEMPTS,
) -> httpx.Response:
    """Send with a small bounded retry on transport errors; anything else is not retried.

    A call that consumes a single-use credential (``idempotent=False``) is retried only when
    the request cannot have reached the provider, so a lost answer never burns the code
    twice. Transport failures end as PROVIDER_UNAVAILABLE.
    """
    retryable = _NOT_SENT_ERRORS + (_MAYBE_SENT_ERRORS if idempotent else ())
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.05, max=0.5),
            retry=retry_if_exception_type(retryable),
            reraise=True,
            before_sleep=lambda state: log.warning(
                "identity.retry",
                provider=provider,
                call=what,
                attempt=state.attempt_number,
                error=type(state.outcome.exception()).__name__ if state.outcome else None,
            ),
        ):
            with attempt:
                return await send()
    except httpx.TimeoutException as exc:
        log.warning("identity.timeout", provider=provider, call=what, error=type(exc).__name__)
        raise IdentityError(
            ErrorCode.PROVIDER_UNAVAILABLE, f"{provider} {what}: timed out"
        ) from exc
    except httpx.HTTPError as exc:
        log.warning(
            "identity.transport_error", provider=provider, call=what, error=type(exc).__name__
        )
        raise IdentityError(
            ErrorCode.PROVIDER_UNAVAILABLE, f"{provider} {what}: {type(exc).__name__}"
        ) from exc
    raise AssertionError("unreachable")  # pragma: no cover
