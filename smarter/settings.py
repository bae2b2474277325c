"""Project settings. This is the only module that reads the process environment.

Unset variables give the *embedded default*: SQLite file, in-process cache, DEBUG on,
root domain ``localhost``. With ``DEBUG`` off the process refuses to start without a
``SECRET_KEY``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = _env_bool("DEBUG", True)
TESTING = _env_bool("TESTING", "pytest" in sys.modules)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-embedded-default-key-only-for-local-development-0123456789"  # noqa: S105

# --- tenancy: host shape is [workspace.]ACCOUNT.ENVIRONMENT.api.ROOT_DOMAIN or ROOT_DOMAIN
ROOT_DOMAIN = os.environ.get("ROOT_DOMAIN", "localhost").strip().lower().rstrip(".")
ENVIRONMENT = os.environ.get("ENVIRONMENT", "alpha").strip().lower()
ENVIRONMENTS = sorted({ENVIRONMENT, "alpha", "beta", "next", "prod", "local"})
RESERVED_LABELS = frozenset(
    {"www", "api", "admin", "static", "media", "mail", "console", *ENVIRONMENTS}
)
# Dotted path of ``(account_id, name) -> workspace | None`` used by the tenant middleware.
TENANCY_WORKSPACE_RESOLVER = "workspaces.utils.get_cached_workspace"
TENANCY_EXEMPT_PATHS = ("/healthz",)
TENANCY_L1_MAXSIZE = int(os.environ.get("TENANCY_L1_MAXSIZE", "2048"))
TENANCY_L1_TTL = float(os.environ.get("TENANCY_L1_TTL", "60"))
TENANCY_L2_TTL = int(os.environ.get("TENANCY_L2_TTL", "600"))
# Seconds a level-1 entry is served without re-checking its version in level 2: 0 (default)
# means other processes' invalidations are seen on the very next read, at one cache round
# trip per lookup; e.g. 1 bounds their staleness to 1 s and saves that round trip.
TENANCY_L1_REVALIDATE = float(os.environ.get("TENANCY_L1_REVALIDATE", "0"))
PLATFORM_ADMIN_USERNAME = os.environ.get("PLATFORM_ADMIN_USERNAME", "admin")
PLATFORM_ADMIN_EMAIL = os.environ.get("PLATFORM_ADMIN_EMAIL", "admin@localhost")
PLATFORM_ADMIN_PASSWORD = os.environ.get("PLATFORM_ADMIN_PASSWORD", "")
LOGIN_RATE_LIMIT = int(os.environ.get("LOGIN_RATE_LIMIT", "10"))  # failures per window
LOGIN_RATE_WINDOW = int(os.environ.get("LOGIN_RATE_WINDOW", "300"))  # seconds
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/minute")  # requests per API key
API_PAGE_SIZE = int(os.environ.get("API_PAGE_SIZE", "50"))

ALLOWED_HOSTS = [ROOT_DOMAIN, f".{ROOT_DOMAIN}", *_env_list("EXTRA_ALLOWED_HOSTS")]
if DEBUG:
    ALLOWED_HOSTS += ["127.0.0.1", "[::1]"]
if TESTING:
    ALLOWED_HOSTS += ["testserver"]

PORT = int(os.environ.get("PORT", "8000"))

INSTALLED_APPS = [
    "accounts.apps.AccountsAdminConfig",  # django.contrib.admin with the tenant sign-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_hosts",
    "taggit",
    "tenancy",
    "accounts",
    "workspaces",
    "rest_framework",
    "drf_spectacular",
    "api",
    "django_tasks",
    "django_tasks_db",
    "audit",
    "lifecycle",
]

MIDDLEWARE = [
    "middleware.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "middleware.outage.DatabaseOutageMiddleware",
    "middleware.tenant.TenantHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "middleware.tenant.TenantMembershipMiddleware",
    "middleware.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "smarter.urls.platform"
ROOT_HOSTCONF = "smarter.hosts"
DEFAULT_HOST = "platform"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.tenant",
            ],
        },
    },
]

WSGI_APPLICATION = "smarter.wsgi.application"
ASGI_APPLICATION = "smarter.asgi.application"

# --- database: DATABASE_URL or an embedded SQLite file
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=0 if DATABASE_URL.startswith("sqlite") else 60,
        conn_health_checks=not DATABASE_URL.startswith("sqlite"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for SQLite's one write lock when their transaction starts (and wait up
    # to 20 s) instead of failing mid-transaction with "database is locked": two processes
    # racing for the same row then behave as a serial run would.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=20
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache: REDIS_URL (redis:// or rediss:// with a self-signed certificate) or in-process
REDIS_URL = os.environ.get("REDIS_URL", "")


def redis_cache(url: str) -> dict:
    """Cache settings for a Redis URL; certificate checks are off only for ``rediss://``."""
    pool_kwargs: dict = {}
    if urlparse(url).scheme == "rediss":
        pool_kwargs["ssl_cert_reqs"] = None
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "smarter",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "CONNECTION_POOL_KWARGS": pool_kwargs,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            # A Redis outage degrades to the database instead of failing requests.
            "IGNORE_EXCEPTIONS": True,
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "smarter",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "tenancy.cache"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Host-only cookies unless an operator shares them across subdomains on purpose.
SESSION_COOKIE_DOMAIN = os.environ.get("SESSION_COOKIE_DOMAIN") or None
CSRF_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
_scheme = "http" if DEBUG else "https"
CSRF_TRUSTED_ORIGINS = [f"{_scheme}://{ROOT_DOMAIN}", f"{_scheme}://*.{ROOT_DOMAIN}"]
if DEBUG:
    CSRF_TRUSTED_ORIGINS += [f"http://{ROOT_DOMAIN}:{PORT}", f"http://*.{ROOT_DOMAIN}:{PORT}"]

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Reverse proxies in front of the app that append to X-Forwarded-For (Heroku's router: 1).
# 0 trusts no header: the client address is REMOTE_ADDR.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
# Preload is an operator's opt-in (hard to undo): without it, W021 is a decision, not a gap.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- JSON API (/api/v1/): API keys only, one error shape, throttled per key
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsAccountAdminOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": TRUSTED_PROXIES,  # None would trust any X-Forwarded-For
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Smarter account API",
    "DESCRIPTION": "Manage one tenant: account, contacts, members, workspaces and API keys. "
    "Authenticate with `Authorization: Token <key>` on the account's own host.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- background tasks (django-tasks): "database" queues them in the database for the
# Procfile's worker (manage.py db_worker); "immediate" runs each one in-process at once.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND") or ("immediate" if DEBUG or TESTING else "database")
if TASKS_BACKEND not in {"immediate", "database"}:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be immediate or database, got {TASKS_BACKEND!r}")
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if TASKS_BACKEND == "immediate"
        else "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# --- mail: the console in DEBUG, SMTP (EMAIL_HOST/EMAIL_PORT) otherwise
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"no-reply@{ROOT_DOMAIN}")

# --- tenant lifecycle: audit log, data exports, account closure
# Models whose every change through the ORM writes one audit event ("app_label.Model").
AUDIT_LOG_MODELS = [
    "accounts.Account", "accounts.UserProfile", "accounts.AccountContact", "accounts.ApiKey",
    "workspaces.Workspace",
]
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "365"))
ACCOUNT_CLOSURE_RETENTION_DAYS = int(os.environ.get("ACCOUNT_CLOSURE_RETENTION_DAYS", "30"))
EXPORT_LINK_HOURS = int(os.environ.get("EXPORT_LINK_HOURS", "24"))
# Exports are written to the default storage under MEDIA_ROOT, which is never served
# (no MEDIA_URL route): they are downloaded only through the console's checked view.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "middleware.request_id.RequestIdLogFilter"},
        # django-redis's ignored errors (DJANGO_REDIS_LOGGER): one line per 30 s, no traceback
        "cache_outage": {"()": "tenancy.cache.CacheOutageLogFilter", "interval": 30},
        # a Host header outside ALLOWED_HOSTS is the client's mistake (400): one line
        "client_error": {"()": "smarter.log_filters.ClientErrorLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "tenancy.cache": {"filters": ["cache_outage"]},
        "django.security.DisallowedHost": {"filters": ["client_error"]},
    },
}
