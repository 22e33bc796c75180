"""Bearer tokens: who is calling and what they may do.

Tokens are JWTs with ``exp``, ``iss``, ``aud`` and ``sub`` required and a ``scope`` claim (space
separated, OAuth 2 style). Each key accepts exactly one algorithm: the shared secret HS256 only,
an RSA public key (PEM file, or each key of a JWKS file) RS256 only. A token's header picks the key
but never widens what that key accepts, so ``alg: none`` and an HS256 token signed with the RSA
public key are refused. Dev signs with a fixed, public secret and binds to loopback only; outside
dev that secret, and any secret under 32 bytes, is refused by :mod:`ai2text.config`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

import jwt

from ai2text.config import DEV_JWT_SECRET, Settings
from ai2text.errors import AuthError, ConfigError, ForbiddenError, InputError

Scope = Literal["transcribe", "ingest", "read", "write", "admin"]
SCOPES: Final[tuple[Scope, ...]] = ("transcribe", "ingest", "read", "write", "admin")
MAX_TOKEN_BYTES: Final = 8192


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    expires_at: float  # the token's ``exp`` (streams close when it passes)

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise ForbiddenError(f"this token lacks the '{scope}' scope")


def _secret(settings: Settings) -> str | None:
    if settings.auth.jwt_secret is not None:
        return settings.auth.jwt_secret.get_secret_value()
    return DEV_JWT_SECRET if settings.env == "dev" else None


class TokenVerifier:
    """Checks bearer tokens against the configured keys."""

    def __init__(self, settings: Settings) -> None:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        self.settings = settings.auth
        self.secret = _secret(settings)
        self.rsa_key: Any = None
        self.jwks: dict[str, Any] = {}
        if settings.auth.jwt_public_key_file is not None:
            try:
                self.rsa_key = load_pem_public_key(settings.auth.jwt_public_key_file.read_bytes())
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read the RS256 public key: {exc}") from exc
        if settings.auth.jwt_jwks_file is not None:
            try:
                keys = jwt.PyJWKSet.from_json(settings.auth.jwt_jwks_file.read_text()).keys
            except (OSError, jwt.PyJWTError) as exc:
                raise ConfigError(f"cannot read the JWKS file: {exc}") from exc
            self.jwks = {
                str(k.key_id): k.key for k in keys if k.key_type == "RSA" and k.key_id is not None
            }
            if not self.jwks:
                raise ConfigError("the JWKS file holds no RSA key with a 'kid'")

    def _key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        algorithm = header.get("alg")
        if algorithm == "HS256" and self.secret is not None:
            return self.secret, "HS256"
        if algorithm == "RS256":
            kid = header.get("kid")
            if isinstance(kid, str) and kid in self.jwks:
                return self.jwks[kid], "RS256"
            if self.rsa_key is not None:
                return self.rsa_key, "RS256"
        raise AuthError(f"tokens signed with {algorithm!r} are not accepted here")

    def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthError("the token is too long")
        try:
            header = jwt.get_unverified_header(token)
            key, algorithm = self._key_for(header)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        return Principal(str(claims["sub"]), frozenset(_scopes(claims)), float(claims["exp"]))


def _scopes(claims: dict[str, Any]) -> Iterable[str]:
    scope = claims.get("scope", "")
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, list):
        return [str(s) for s in scope]
    raise AuthError("the token's scope claim must be a string or a list")


def issue_token(
    settings: Settings,
    subject: str = "dev",
    scopes: Iterable[str] = SCOPES,
    ttl_s: int | None = None,
) -> str:
    """An HS256 token for this configuration's secret (the dev token carries every scope)."""
    secret = _secret(settings)
    if secret is None:
        raise ConfigError(
            "no HS256 secret is configured to sign with; outside dev, tokens come from your "
            "identity provider (RS256)"
        )
    scopes = list(scopes)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InputError(f"unknown scopes {unknown}; known: {', '.join(SCOPES)}")
    if not subject or len(subject) > 200:
        raise InputError("the subject must be 1 to 200 characters")
    ttl = settings.auth.dev_token_ttl_s if ttl_s is None else ttl_s
    if ttl <= 0:
        raise InputError("--ttl must be positive")
    now = int(time.time())
    claims = {
        "sub": subject,
        "iss": settings.auth.issuer,
        "aud": settings.auth.audience,
        "iat": now,
        "exp": now + ttl,
        "scope": " ".join(scopes),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer ...`` header."""
    if not authorization:
        raise AuthError("missing bearer token (Authorization: Bearer <jwt>)")
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <jwt>'")
    return token.strip()
