"""Access tokens (short-lived JWT, HS256) and refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "zj-accounting-registration"
AUDIENCE = "registration-api"
ALGORITHM = "HS256"


class TokenInvalid(Exception):
    """The token is malformed, forged, expired or not an access token."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    session_id: str
    expires_at: datetime


def issue_access_token(secret: str, session_id: str, now: datetime, lifetime: timedelta) -> str:
    claims = {
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_access_token(secret: str, token: str) -> str:
    """The session id of a valid access token; raises TokenInvalid otherwise."""
    return read_access_claims(secret, token).session_id


def read_access_claims(secret: str, token: str) -> AccessClaims:
    """The session id and expiry of a valid access token; raises TokenInvalid otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sid", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenInvalid("expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid("invalid") from exc
    if claims.get("typ") != "access" or not isinstance(claims.get("sid"), str):
        raise TokenInvalid("invalid")
    expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    return AccessClaims(session_id=str(claims["sid"]), expires_at=expires_at)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def successor_refresh_token(key: bytes, refresh_token: str) -> str:
    """The refresh token that replaces ``refresh_token``: derived, so it is never stored."""
    digest = hmac.new(key, refresh_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_id() -> str:
    """A random 32-character hex id for sessions, registrations, uploads and attachments."""
    return secrets.token_hex(16)
