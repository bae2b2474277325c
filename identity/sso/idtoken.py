"""The ID token check of every OIDC sign-in (OIDC Core 1.0 §3.1.3.7), whichever way the token
came: signature always verified against the provider's stored JWKS (refetched once, bounded, for
a key id it lacks: key rotation), ``iss`` equal to the configured issuer, ``aud`` holding our
client id, ``azp`` our client id when present (required with several audiences), ``exp`` and
``iat`` present and current, and the ``nonce`` this browser's sign-in sent."""

from __future__ import annotations

import hmac
import time
from typing import Any

import jwt
from allauth.socialaccount.providers.oauth2.client import OAuth2Error

from .caching import ProviderConfig
from .metadata import refetch_jwks

#: Asymmetric algorithms only: ``none`` and HMAC (keyed with the client secret) are refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY = 60  # seconds of clock difference tolerated
MAX_AGE = 600  # an ID token issued longer ago than this is stale


class IdTokenInvalid(OAuth2Error):
    """An OAuth2Error, so allauth's callback shows its sign-in error page."""


def _key(jwks: dict[str, Any], kid: str | None) -> Any | None:
    """The signing key named ``kid`` (the only one when the token names none)."""
    try:
        keys = jwt.PyJWKSet.from_dict(jwks).keys
    except (jwt.PyJWKSetError, jwt.InvalidKeyError, TypeError, ValueError):
        return None
    usable = [k for k in keys if k.public_key_use in (None, "sig")]
    if kid is None:
        return usable[0].key if len(usable) == 1 else None
    return next((k.key for k in usable if k.key_id == kid), None)


def signing_key(config: ProviderConfig, kid: str | None) -> Any:
    """The key from the stored JWKS, or from a refetch when the provider rotated its keys."""
    key = _key(config.oidc_jwks, kid)
    if key is None:
        fresh = refetch_jwks(config.pk)
        key = _key(fresh, kid) if fresh else None
    if key is None:
        raise IdTokenInvalid(f"The ID token is signed with a key the provider does not publish ({kid!r}).")
    return key


def verify(token: str, config: ProviderConfig, *, nonce: str | None) -> dict[str, Any]:
    """The ID token's claims, once every check passed; raises :class:`IdTokenInvalid`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdTokenInvalid("The ID token is not a JWT.") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise IdTokenInvalid(f"The ID token's algorithm {alg!r} is not accepted.")
    key = signing_key(config, header.get("kid"))
    try:
        claims = jwt.decode(token, key=key, algorithms=[alg], audience=config.client_id, issuer=config.issuer,
                            leeway=LEEWAY, options={"require": ["iss", "aud", "exp", "iat", "sub"]})
    except jwt.PyJWTError as exc:
        raise IdTokenInvalid(f"The ID token was refused: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != config.client_id:
        raise IdTokenInvalid("The ID token's authorized party (azp) is not this client.")
    if claims["iat"] < time.time() - MAX_AGE - LEEWAY:
        raise IdTokenInvalid("The ID token is stale (issued too long ago).")
    if not nonce or not hmac.compare_digest(str(claims.get("nonce") or ""), nonce):
        raise IdTokenInvalid("The ID token's nonce does not match this sign-in.")
    return claims
