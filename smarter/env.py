"""Typed readers of the process environment and the builders of settings that come from one
URL. ``smarter.settings`` is the only caller: it names every variable it reads, and a value
that cannot be parsed stops the process with the variable's name instead of a traceback."""

from __future__ import annotations

import os
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    """The variable's value, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """true/false (also 1/0, yes/no, on/off); unset or empty gives ``default``."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    """A whole number; unset or empty gives ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    """A number; unset or empty gives ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def env_list(name: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def redis_cache(url: str) -> dict[str, Any]:
    """Cache settings for a Redis URL; certificate checks are off only for ``rediss://``."""
    pool_kwargs: dict[str, Any] = {}
    if urlparse(url).scheme == "rediss":
        pool_kwargs["ssl_cert_reqs"] = None
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "smarter",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # every command behind a per-process circuit breaker (a hung Redis: one timeout)
            "REDIS_CLIENT_CLASS": "tenancy.redis_breaker.BreakerRedis",
            "CONNECTION_POOL_KWARGS": pool_kwargs,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            # A Redis outage degrades to the database instead of failing requests.
            "IGNORE_EXCEPTIONS": True,
        },
    }


class Smtp(NamedTuple):
    """Django's SMTP settings, as one mail URL gives them."""

    host: str
    port: int
    user: str
    password: str
    use_ssl: bool
    use_tls: bool


def smtp_settings(url: str) -> Smtp:
    """``smtp://user:pass@host:587`` (STARTTLS with ``?tls=1``) or ``smtps://user:pass@host:465``
    (implicit TLS). User and password are URL-decoded."""
    parts = urlparse(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL must be smtp://[user:pass@]host[:port] or smtps://…")
    ssl = parts.scheme == "smtps"
    return Smtp(
        host=parts.hostname,
        port=parts.port or (465 if ssl else 25),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=ssl,
        use_tls=not ssl and parse_qs(parts.query).get("tls", ["0"])[0].lower() in {"1", "true", "yes"},
    )
