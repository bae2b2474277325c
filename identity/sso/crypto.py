"""Secrets at rest (an OIDC client secret): Fernet with the key(s) of ``SSO_ENCRYPTION_KEYS``.

The first key encrypts; every key decrypts (MultiFernet), so a key is rotated by putting the
new one first and re-saving the providers. A value that no key opens decrypts to "" (the
provider then fails to sign in, visibly, and the admin enters the secret again).
"""

from __future__ import annotations

import base64
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

logger = logging.getLogger(__name__)


def _fernet(key: str) -> Fernet:
    """A Fernet of a configured key: a Fernet key as is, any other string through SHA-256."""
    try:
        return Fernet(key.encode())
    except ValueError:
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def _box() -> MultiFernet:
    keys = [k for k in settings.SSO_ENCRYPTION_KEYS if k]
    if not keys:
        raise RuntimeError("SSO_ENCRYPTION_KEYS is empty")
    return MultiFernet([_fernet(k) for k in keys])


def encrypt(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode() if plain else ""


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return _box().decrypt(stored.encode()).decode()
    except InvalidToken:
        logger.error("an SSO secret could not be decrypted with SSO_ENCRYPTION_KEYS")
        return ""
