"""GitHub App authentication as GitHub checks it: app JWTs and installation access tokens."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

import jwt

JWT_MAX_LIFETIME = 600  # GitHub's 10-minute rule for `exp - iat`
TOKEN_LIFETIME = 3600

# GitHub's own 401 messages.
UNDECODABLE = "A JSON web token could not be decoded"
ISS_NOT_INTEGER = "'Issuer' claim ('iss') must be an Integer"
IAT_NOT_PAST = ("'Issued at' claim ('iat') must be an Integer representing a time that occurred "
                "in the past.")
EXP_NOT_FUTURE = ("'Expiration time' claim ('exp') must be a numeric value representing the "
                  "future time at which the assertion expires")
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
BAD_CREDENTIALS = "Bad credentials"
REQUIRES_AUTHENTICATION = "Requires authentication"


@dataclass
class Token:
    """An installation access token the fake issued."""

    value: str
    installation_id: int
    expires_at: float       # on the fake's clock; what the bot was told
    real_expires_at: float  # on the true clock; a token used after this is the bot's fault
    permissions: dict
    repositories: list[str] | None  # full names it was narrowed to; None follows the installation


def new_token_value() -> str:
    """A token shaped like GitHub's: `ghs_` and 36 alphanumerics."""
    return "ghs_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))


def split_authorization(header: str | None) -> tuple[str | None, str | None, str | None]:
    """(kind, scheme, credential) of an Authorization header; kind is "jwt", "token" or None."""
    if not header:
        return None, None, None
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    kind = "jwt" if scheme.lower() == "bearer" and credential.count(".") == 2 else "token"
    return kind, scheme.lower(), credential


def jwt_refusal(token: str, public_key, issuers: set[str], now: float) -> str | None:
    """GitHub's 401 message for an app JWT checked at `now`, or None when GitHub accepts it."""
    try:
        claims = jwt.decode(token, public_key, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                     "verify_iss": False, "verify_aud": False})
    except jwt.PyJWTError:
        return UNDECODABLE
    iss = claims.get("iss")
    if isinstance(iss, bool) or str(iss) not in issuers:
        # An unknown numeric id names an app whose key did not sign this: GitHub can't decode it.
        return UNDECODABLE if str(iss).isdigit() else ISS_NOT_INTEGER
    iat, exp = claims.get("iat"), claims.get("exp")
    if not _integer(iat) or iat > now:
        return IAT_NOT_PAST
    if not _integer(exp) or exp <= now:
        return EXP_NOT_FUTURE
    if exp - iat > JWT_MAX_LIFETIME:
        return EXP_TOO_FAR
    return None


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
