"""Bearer tokens: what is accepted, what is refused, and the settings refused outside dev."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ai2text.auth import SCOPES, TokenVerifier, bearer_token, issue_token
from ai2text.config import DEV_JWT_SECRET, load_settings
from ai2text.errors import AuthError, ConfigError, ForbiddenError, InputError

CLAIMS = {"sub": "alice", "iss": "ai2text", "aud": "ai2text-api", "scope": "transcribe read"}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def claims(**changes: object) -> dict[str, object]:
    return {**CLAIMS, "exp": int(time.time()) + 600, **changes}


def test_dev_token_carries_every_scope_and_verifies() -> None:
    settings = load_settings()
    principal = TokenVerifier(settings).verify(issue_token(settings, "bob"))
    assert principal.subject == "bob"
    assert principal.scopes == frozenset(SCOPES)


def test_scopes_are_enforced() -> None:
    settings = load_settings()
    principal = TokenVerifier(settings).verify(jwt.encode(claims(), DEV_JWT_SECRET, "HS256"))
    principal.require("transcribe")
    with pytest.raises(ForbiddenError, match="'admin' scope"):
        principal.require("admin")


def without_exp() -> dict[str, object]:
    return {k: v for k, v in claims().items() if k != "exp"}


@pytest.mark.parametrize(
    ("make_claims", "message"),
    [
        (lambda: claims(exp=int(time.time()) - 60), "expired"),
        (lambda: claims(aud="someone-else"), "(?i)audience"),
        (lambda: claims(iss="evil"), "(?i)issuer"),
        (without_exp, "exp"),
    ],
)
def test_bad_claims_are_refused(make_claims: Callable[[], dict[str, object]], message: str) -> None:
    """Claims are built when the test runs: a collection-time `exp` lapses in a long session."""
    token = jwt.encode(make_claims(), DEV_JWT_SECRET, "HS256")
    with pytest.raises(AuthError, match=message):
        TokenVerifier(load_settings()).verify(token)


def test_wrong_secret_and_alg_none_are_refused() -> None:
    verifier = TokenVerifier(load_settings())
    with pytest.raises(AuthError, match="Signature"):
        verifier.verify(jwt.encode(claims(), "x" * 40, "HS256"))
    unsigned = jwt.encode(claims(), None, algorithm="none")
    with pytest.raises(AuthError, match="'none'"):
        verifier.verify(unsigned)
    with pytest.raises(AuthError):
        verifier.verify("not.a.token")


def test_rs256_public_key_accepts_rs256_only(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    pem = tmp_path / "public.pem"
    pem.write_bytes(public_pem(rsa_key))
    settings = load_settings(
        env="prod", database_url="postgresql://x", auth={"jwt_public_key_file": pem}
    )
    verifier = TokenVerifier(settings)
    assert verifier.verify(jwt.encode(claims(), rsa_key, "RS256")).subject == "alice"
    # the classic confusion: HS256 "signed" with the public key as the shared secret
    forged = _hs256_with(public_pem(rsa_key))
    with pytest.raises(AuthError, match="HS256"):
        verifier.verify(forged)


def _hs256_with(secret: bytes) -> str:
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def test_jwks_keys_are_picked_by_kid(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    settings = load_settings(
        env="prod", database_url="postgresql://x", auth={"jwt_jwks_file": jwks}
    )
    verifier = TokenVerifier(settings)
    token = jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"})
    assert verifier.verify(token).scopes == {"transcribe", "read"}
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthError):
        verifier.verify(jwt.encode(claims(), other, "RS256", headers={"kid": "k1"}))


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"jwt_secret": DEV_JWT_SECRET}, "dev JWT secret"),
        ({"jwt_secret": "short-secret"}, "under 32 bytes"),
        ({}, "JWT_PUBLIC_KEY_FILE"),
    ],
)
def test_unsafe_secrets_are_refused_outside_dev(auth: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env="prod", database_url="postgresql://x", auth=auth)


def test_dev_listens_on_loopback_only() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        load_settings(serve={"host": "0.0.0.0"})


def test_prod_cannot_sign_dev_tokens(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    pem = tmp_path / "public.pem"
    pem.write_bytes(public_pem(rsa_key))
    settings = load_settings(
        env="prod", database_url="postgresql://x", auth={"jwt_public_key_file": pem}
    )
    with pytest.raises(ConfigError, match="identity provider"):
        issue_token(settings)
    with pytest.raises(InputError, match="unknown scopes"):
        issue_token(load_settings(), scopes=["root"])


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "token abc"])
def test_malformed_authorization_headers(header: str | None) -> None:
    with pytest.raises(AuthError):
        bearer_token(header)
