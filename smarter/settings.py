"""Project settings. This is the only module that reads the process environment (through the
typed readers of ``smarter.env``); the test suite's overrides are ``tests/settings.py``.

Unset variables give the *embedded default*: SQLite file, in-process cache, DEBUG on,
root domain ``localhost``. With ``DEBUG`` off the process refuses to start without a
``SECRET_KEY``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from smarter.env import env_bool, env_float, env_int, env_list, env_str, redis_cache, smtp_settings
from tenancy.allowed_hosts import RuntimeAllowedHost

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DEBUG", True)
# True only under tests/settings.py, the test suite's settings (pytest names it).
TESTING = False

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-embedded-default-key-only-for-local-development-0123456789"  # noqa: S105

# --- tenancy: host shape is [workspace.]ACCOUNT.ENVIRONMENT.api.ROOT_DOMAIN or ROOT_DOMAIN
ROOT_DOMAIN = env_str("ROOT_DOMAIN", "localhost").strip().lower().rstrip(".")
ENVIRONMENT = env_str("ENVIRONMENT", "alpha").strip().lower()
ENVIRONMENTS = sorted({ENVIRONMENT, "alpha", "beta", "next", "prod", "local"})
RESERVED_LABELS = frozenset(
    {"www", "api", "admin", "static", "media", "mail", "console", *ENVIRONMENTS}
)
# Dotted path of ``(account_id, name) -> workspace | None`` used by the tenant middleware.
TENANCY_WORKSPACE_RESOLVER = "workspaces.utils.get_cached_workspace"
# The tenant model and the foreign key naming it on every tenant-owned model: the column the
# tenant tables can be distributed by (``manage.py check --tag distribution``).
TENANCY_TENANT_MODEL = "accounts.Account"
TENANCY_TENANT_FIELD = "account"
TENANCY_EXEMPT_PATHS = ("/healthz", "/metrics")
TENANCY_L1_MAXSIZE = env_int("TENANCY_L1_MAXSIZE", 2048)
TENANCY_L1_TTL = env_float("TENANCY_L1_TTL", 60)
TENANCY_L2_TTL = env_int("TENANCY_L2_TTL", 600)
# On Redis, invalidations are pushed over pub/sub so level-1 hits need no round trip while
# the subscription is healthy (tenancy/push.py); off = every read checks Redis.
TENANCY_PUSH_INVALIDATION = env_bool("TENANCY_PUSH_INVALIDATION", True)
PLATFORM_ADMIN_USERNAME = env_str("PLATFORM_ADMIN_USERNAME", "admin")
PLATFORM_ADMIN_EMAIL = env_str("PLATFORM_ADMIN_EMAIL", "admin@localhost")
PLATFORM_ADMIN_PASSWORD = env_str("PLATFORM_ADMIN_PASSWORD", "")
LOGIN_RATE_LIMIT = env_int("LOGIN_RATE_LIMIT", 10)  # failures per window
LOGIN_RATE_WINDOW = env_int("LOGIN_RATE_WINDOW", 300)  # seconds
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "600/minute")  # requests per API key
# failed API-key authentications per client address (and per key) and window
API_AUTH_FAILURE_LIMIT = env_int("API_AUTH_FAILURE_LIMIT", 20)
API_AUTH_FAILURE_WINDOW = env_int("API_AUTH_FAILURE_WINDOW", 300)  # seconds

# SCIM 2.0 provisioning (identity/scim/) through django-scim2: every hook is the account-scoped
# one of scim/; tokens are per account (console), rate-limited with API_RATE_LIMIT per token and
# API_AUTH_FAILURE_* per client address.
SCIM_SERVICE_PROVIDER = {
    "USER_MODEL_GETTER": "identity.scim.adapters.user_model",
    "USER_ADAPTER": "identity.scim.adapters.ScimUserAdapter",
    "GROUP_MODEL": "identity.scim.groups.RoleGroup",
    "GROUP_ADAPTER": "identity.scim.adapters.RoleGroupAdapter",
    "USER_FILTER_PARSER": "identity.scim.filters.ScimUserFilter",
    "GROUP_FILTER_PARSER": "identity.scim.filters.RoleGroupFilter",
    "SERVICE_PROVIDER_CONFIG_MODEL": "identity.scim.adapters.ServiceProviderConfig",
    "BASE_LOCATION_GETTER": "identity.scim.adapters.base_location",
    "GET_EXTRA_MODEL_FILTER_KWARGS_GETTER": "identity.scim.adapters.account_filter_getter",
    "GET_QUERYSET_POST_PROCESSOR_GETTER": "identity.scim.adapters.queryset_post_processor_getter",
    "AUTH_CHECK_MIDDLEWARE": "identity.scim.auth.ScimTokenCheck",
    "AUTHENTICATION_SCHEMES": [{
        "type": "oauthbearertoken", "name": "SCIM bearer token", "primary": True,
        "description": "Authorization: Bearer <token>, a token created in the account's console; "
                       "it works on that account's host only.",
    }],
    "WWW_AUTHENTICATE_HEADER": 'Bearer realm="scim"',
}
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
# How long the answer to a creating request sent with an Idempotency-Key is replayed (seconds).
IDEMPOTENCY_KEY_TTL = env_int("IDEMPOTENCY_KEY_TTL", 24 * 3600)
# --- custom domains (domains/): customers CNAME their name to CUSTOM_DOMAIN_TARGET and prove
# control with a TXT record; DNS is asked through CUSTOM_DOMAIN_DNS_NAMESERVERS (host
# addresses, on CUSTOM_DOMAIN_DNS_PORT) or, when unset, the system's resolver.
CUSTOM_DOMAIN_TARGET = (
    env_str("CUSTOM_DOMAIN_TARGET") or f"{ENVIRONMENT}.api.{ROOT_DOMAIN}"
).strip().lower().rstrip(".")
CUSTOM_DOMAIN_DNS_NAMESERVERS = env_list("CUSTOM_DOMAIN_DNS_NAMESERVERS")
CUSTOM_DOMAIN_DNS_PORT = env_int("CUSTOM_DOMAIN_DNS_PORT", 53)
CUSTOM_DOMAIN_DNS_TIMEOUT = env_float("CUSTOM_DOMAIN_DNS_TIMEOUT", 5)
# Seconds a verified domain may miss its TXT record before it is suspended (default 72 h).
CUSTOM_DOMAIN_GRACE_PERIOD = env_int("CUSTOM_DOMAIN_GRACE_PERIOD", 72 * 3600)
# Pending domains not verified within this many days are released by check_domains.
CUSTOM_DOMAIN_PENDING_DAYS = env_int("CUSTOM_DOMAIN_PENDING_DAYS", 14)
# Domains an account may have waiting for verification at once (domains.claims).
CUSTOM_DOMAIN_MAX_PENDING = env_int("CUSTOM_DOMAIN_MAX_PENDING", 5)
# Paths a number host keeps serving when its account has a canonical domain (the rest
# redirect there): management and sign-in stay reachable even if the domain's DNS breaks.
# (hand-offs are issued for number hosts: a redirect would carry the token to another host,
# which the page's form-action would refuse)
CUSTOM_DOMAIN_CANONICAL_EXEMPT = ("/api/", "/admin/", "/console/", "/login/", "/logout/",
                                  "/accounts/handoff/")
TENANCY_CUSTOM_DOMAIN_RESOLVER = "domains.routing.get_domain_route"
TENANCY_CANONICAL_DOMAIN_RESOLVER = "domains.routing.get_canonical_domain"
# () -> profile | None: the owner of the platform rows every tenant may read (the seed's read
# rule); the database wall's shared-read policy admits that owner's rows (tenancy.wall).
TENANCY_SHARED_OWNER_RESOLVER = "accounts.caching.get_cached_smarter_admin_user_profile"

ALLOWED_HOSTS = [ROOT_DOMAIN, f".{ROOT_DOMAIN}", *env_list("EXTRA_ALLOWED_HOSTS")]
if DEBUG:
    ALLOWED_HOSTS += ["127.0.0.1", "[::1]"]
# Verified custom domains, looked up through the tenant cache (never "*"): see
# tenancy/allowed_hosts.py and docs/ARCHITECTURE.md. Keep it last: static entries match first.
ALLOWED_HOSTS += [RuntimeAllowedHost("domains.routing.is_verified_host")]

PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "accounts.apps.AccountsAdminConfig",  # django.contrib.admin with the tenant sign-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth.usersessions' list page
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_hosts",
    "taggit",
    "tenancy",
    "accounts",
    "identity.frontdoor",
    "console",
    "workspaces",
    "domains",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served from here, not a CDN
    "csp",
    "api",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",  # the profile page's "where you are signed in"
    "identity.profiles",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "identity.emaildomains",
    "identity.sso",
    "operations",  # before django_tasks_db: its db_worker (with a heartbeat) is the one run
    "django_tasks",
    "django_tasks_db",
    "audit",
    "lifecycle",
    "routerdomains",
    "identity.scim",
]

MIDDLEWARE = [
    # request id, CSP (plain policy built once), Permissions-Policy, metrics, access line
    "middleware.edge.EdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "middleware.outage.DatabaseOutageMiddleware",
    "middleware.tenant.TenantHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # host-bound sessions, membership, required 2FA, audit context, usage, rate-limit page
    "middleware.after_auth.AfterAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The workspace page's template: a product app names its own here, extending
# workspaces/workspace.html and filling its workspace_content block (workspaces/views.py).
WORKSPACE_PAGE_TEMPLATE = "workspaces/workspace.html"

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
                "identity.frontdoor.context_processors.front_door",
            ],
        },
    },
]

WSGI_APPLICATION = "smarter.wsgi.application"
ASGI_APPLICATION = "smarter.asgi.application"

# --- database: DATABASE_URL or an embedded SQLite file
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
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
# A transaction-mode pooler between the app and PostgreSQL (PgBouncer, Heroku's connection
# pooler): each transaction may run on a different server connection, so nothing may outlive
# one. Server-side cursors (WITH HOLD) and prepared statements would; psycopg 3 prepares none
# with prepare_threshold=None. The only session setting Django makes is the time zone at
# connect, a parameter PgBouncer tracks and restores per client. Client connections to the
# pooler stay persistent (CONN_MAX_AGE): they are cheap, and the pooler bounds server ones.
DATABASE_POOL = env_str("DATABASE_POOL", "").strip().lower()
if DATABASE_POOL not in {"", "pgbouncer"}:
    raise ImproperlyConfigured(f"DATABASE_POOL must be empty or 'pgbouncer', got {DATABASE_POOL!r}")
if DATABASE_POOL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_POOL=pgbouncer needs a postgres:// DATABASE_URL.")
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"]["OPTIONS"].update(prepare_threshold=None, server_side_binding=False)
# The two-role layout (operations/runtime_role.py): web and worker connect with this URL (a
# role with row access only) when set; the release phase keeps DATABASE_URL (the owner).
RUNTIME_DATABASE_URL = env_str("RUNTIME_DATABASE_URL", "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache: REDIS_URL (redis:// or rediss:// with a self-signed certificate) or in-process
REDIS_URL = env_str("REDIS_URL", "")


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
# django-redis's default, stated: its per-request close() looks this up in settings, and a
# missing setting costs an AttributeError on every request (keep pooled connections open).
DJANGO_REDIS_CLOSE_CONNECTION = False
DJANGO_REDIS_LOGGER = "tenancy.cache"
# after a Redis timeout a process does not ask Redis for MIN s, then (while it still
# does not answer) for twice as long each time, up to MAX s (tenancy/redis_breaker.py)
REDIS_BREAKER_MIN = env_float("REDIS_BREAKER_MIN", 1)
REDIS_BREAKER_MAX = env_float("REDIS_BREAKER_MAX", 10)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Host-only cookies unless an operator shares them across subdomains on purpose.
SESSION_COOKIE_DOMAIN = env_str("SESSION_COOKIE_DOMAIN") or None
CSRF_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# A form is accepted from the request's own origin only (Django's default check): no other
# host under the root, whose tenant may control its pages, is trusted.
CSRF_TRUSTED_ORIGINS: list[str] = []

# Reverse proxies in front of the app that append to X-Forwarded-For (Heroku's router: 1).
# 0 trusts no header: the client address is REMOTE_ADDR.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
# The scheme the client used, as the trusted proxy reports it; without one, X-Forwarded-Proto
# is the client's own word and never makes a request "secure" (tenancy/client_origin.py).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES > 0 else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preload is an operator's opt-in (hard to undo): without it, W021 is a decision, not a gap.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): own origin only, no inline script
# or style; a page that really needs inline code uses ``request.csp_nonce`` (the nonce is
# added to the header only when a page asks for it). data: images are Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "font-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        # the account switcher and the bare domain's sign-in post here and are redirected
        # (browsers hold redirects to form-action) to a tenant host's hand-off
        "form-action": [csp.SELF, f"*.{ENVIRONMENT}.api.{ROOT_DOMAIN}:*"],
        "frame-ancestors": [csp.NONE],
    }
}
# Permissions-Policy on every response (django-permissions-policy): powerful features off,
# full screen and WebAuthn (passkeys, security keys) for this origin only.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    **{feature: [] for feature in (
        "accelerometer", "autoplay", "camera",
        "display-capture", "geolocation", "gyroscope", "hid", "idle-detection",
        "magnetometer", "microphone", "midi", "payment", "screen-wake-lock", "serial",
        "usb", "xr-spatial-tracking", "browsing-topics",
    )},
    "fullscreen": ["self"],
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- JSON API (/api/v1/): API keys only, one error shape, throttled per key
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsAccountAdminOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONBodyParser"],
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
    "SWAGGER_UI_DIST": "SIDECAR",  # same-origin assets: the page works under the CSP
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- background tasks (django-tasks): "database" queues them in the database for the
# Procfile's worker (manage.py db_worker); "immediate" runs each one in-process at once.
TASK_BACKEND_CLASSES = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS_BACKEND = env_str("TASKS_BACKEND") or ("immediate" if DEBUG else "database")
if TASKS_BACKEND not in TASK_BACKEND_CLASSES:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be immediate or database, got {TASKS_BACKEND!r}")
TASKS = {"default": {"BACKEND": TASK_BACKEND_CLASSES[TASKS_BACKEND], "QUEUES": ["default"]}}
# A task RUNNING longer than this (seconds) is taken for dead (its worker was killed) and is
# retried while it has had fewer than TASKS_MAX_ATTEMPTS runs, then failed
# (tenancy/stale_tasks.py); the worker checks every TASKS_REAP_INTERVAL seconds.
TASKS_RUNNING_TIMEOUT = env_int("TASKS_RUNNING_TIMEOUT", 1800)
TASKS_MAX_ATTEMPTS = env_int("TASKS_MAX_ATTEMPTS", 2)
TASKS_REAP_INTERVAL = env_float("TASKS_REAP_INTERVAL", 60)

# --- router domains (routerdomains/): the hosts the platform's router must serve and certify,
# provisioned by the app itself. "none": the operator routes every host (the console says so);
# "heroku": the Platform API adds/removes app domains and reports their ACM certificate.
ROUTER_DOMAIN_PROVIDER = (env_str("ROUTER_DOMAIN_PROVIDER") or "none").strip().lower()
if ROUTER_DOMAIN_PROVIDER not in {"none", "heroku"}:
    raise ImproperlyConfigured(
        f"ROUTER_DOMAIN_PROVIDER must be none or heroku, got {ROUTER_DOMAIN_PROVIDER!r}"
    )
HEROKU_API_TOKEN = env_str("HEROKU_API_TOKEN", "")
HEROKU_APP_NAME = env_str("HEROKU_APP_NAME", "")
HEROKU_API_URL = (env_str("HEROKU_API_URL") or "https://api.heroku.com").rstrip("/")
if ROUTER_DOMAIN_PROVIDER == "heroku":
    if not HEROKU_API_TOKEN or not HEROKU_APP_NAME:
        raise ImproperlyConfigured(
            "ROUTER_DOMAIN_PROVIDER=heroku needs HEROKU_API_TOKEN and HEROKU_APP_NAME"
        )
    _api = urlparse(HEROKU_API_URL)
    if _api.scheme != "https" and _api.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ImproperlyConfigured("HEROKU_API_URL must be https:// (the token travels with every call)")
ROUTER_DOMAIN_TIMEOUT = env_float("ROUTER_DOMAIN_TIMEOUT", 10)
ROUTER_DOMAIN_RETRY_BASE = env_int("ROUTER_DOMAIN_RETRY_BASE", 60)
ROUTER_DOMAIN_RETRY_MAX = env_int("ROUTER_DOMAIN_RETRY_MAX", 6 * 3600)

# --- tenant lifecycle: audit log, data exports, account closure
# (Which models' changes are audited: their registration, tenancy.register(Model, audit=True).)
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)
ACCOUNT_CLOSURE_RETENTION_DAYS = env_int("ACCOUNT_CLOSURE_RETENTION_DAYS", 30)
EXPORT_LINK_HOURS = env_int("EXPORT_LINK_HOURS", 24)
# Importing an account export (manage.py import_account, the console's clone): an archive is
# refused before anything is inflated when it would inflate to more than this many bytes in
# all, or when one entry of over 1 MiB inflates more than this many times (a zip bomb).
ACCOUNT_IMPORT_MAX_BYTES = env_int("ACCOUNT_IMPORT_MAX_BYTES", 4 * 1024**3)
ACCOUNT_IMPORT_MAX_RATIO = env_int("ACCOUNT_IMPORT_MAX_RATIO", 200)
# Exports are written to the default storage under MEDIA_ROOT, which is never served
# (no MEDIA_URL route): they are downloaded only through the console's checked view.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")

LOGIN_URL = "login"  # /login/ (allauth's sign-in, also at /accounts/login/)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- the front door: django-allauth (sign-in, sign-up, verification, reset, MFA)
# One backend (allauth's, one password check per attempt): no timing oracle between a
# wrong password and an unknown user (accounts.auth_backends).
AUTHENTICATION_BACKENDS = ["accounts.auth_backends.SingleCheckAuthenticationBackend"]
ACCOUNT_ADAPTER = "identity.frontdoor.adapter.TenantAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_SIGNUP_FORM_CLASS = "identity.frontdoor.signup.CompanySignupForm"
ACCOUNT_FORMS = {
    "reset_password": "identity.frontdoor.forms.TenantResetPasswordForm",
    "user_token": "identity.frontdoor.forms.HostBoundUserTokenForm",
    "signup": "identity.frontdoor.forms.TenantSignupForm",
}
# Existing members may have no verified address: verification is mandatory for sign-up only
# (frontdoor.views passes it), optional at sign-in.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False  # sign-up moves to the tenant host by hand-off
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXIES
# Sign-up is open on the bare domain unless an operator closes it.
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", True)
# What the bare domain's front page shows: "product" (what the product is, sign up, sign in,
# find my accounts), "account" (the default account's own home page instead) or "both".
PLATFORM_FRONT_PAGE = env_str("PLATFORM_FRONT_PAGE", "product").strip().lower()
if PLATFORM_FRONT_PAGE not in ("product", "account", "both"):
    raise ImproperlyConfigured("PLATFORM_FRONT_PAGE must be product, account or both.")
#: accounts listed in the header's account switcher (the rest: the bare domain's chooser)
ACCOUNT_SWITCHER_SIZE = 8
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 7)
HANDOFF_TTL = min(env_int("HANDOFF_TTL", 60), 60)  # seconds, at most 60
# Password sign-in failures are counted by accounts.ratelimit (LOGIN_RATE_LIMIT per account
# and address, one limiter for every sign-in path); allauth's "login_failed" still limits
# MFA codes per user. Every limit answers 429.
ACCOUNT_RATE_LIMITS = {
    "login": False,
    "login_failed": env_str("MFA_RATE_LIMIT", "10/m/ip,5/300s/key"),
    "signup": env_str("SIGNUP_RATE_LIMIT", "10/h/ip"),
    "signup_email": env_str("SIGNUP_EMAIL_RATE_LIMIT", "3/h/key"),
    "reset_password": env_str("RESET_RATE_LIMIT", "20/m/ip,5/h/key"),
    "find_accounts": env_str("FIND_ACCOUNTS_RATE_LIMIT", "10/h/ip,3/h/key"),
    "send_invitation": env_str("INVITATION_RATE_LIMIT", "50/h/user,3/h/key"),
    # hand-offs a signed-in person starts (the chooser, the account switcher)
    "handoff": env_str("HANDOFF_RATE_LIMIT", "30/m/ip,20/m/user"),
}
# Sessions are listed with their sign-in address and browser; tracking each request's address
# would write a row on every request, so it stays off.
USERSESSIONS_TRACK_ACTIVITY = False
# --- single sign-on per account (sso/): allauth's socialaccount, apps only from sso.adapter
SOCIALACCOUNT_ADAPTER = "identity.sso.adapter.TenantSocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # sso.signin links by verified email domain itself
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in buttons are forms (POST)
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
# OIDC held to the book (stored discovery, nonce, ID token always verified): identity/sso/oidc/.
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"provider_class": "identity.sso.oidc.provider.TenantOIDCProvider"},
}
# Keys encrypting the providers' secrets at rest: the first encrypts, all decrypt (rotation).
# Unset: one derived from SECRET_KEY (set it explicitly to rotate SECRET_KEY independently).
SSO_ENCRYPTION_KEYS = env_list("SSO_ENCRYPTION_KEYS") or [f"sso-secrets:{SECRET_KEY}"]
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Smarter")
# The activation page keeps the session's pending secret until it is confirmed (allauth's
# form makes a new one on every GET, so a reload would invalidate the code on screen).
MFA_FORMS = {"activate_totp": "identity.frontdoor.forms.PendingSecretActivateTOTPForm"}

# --- email: printed to the terminal unless EMAIL_URL (smtp://, smtps://) is set. With DEBUG
# off that needs EMAIL_TO_LOG=true (operations/checks.py): the log would carry live links.
EMAIL_URL = env_str("EMAIL_URL", "")
EMAIL_TO_LOG = env_bool("EMAIL_TO_LOG", False)


if EMAIL_URL:
    _smtp = smtp_settings(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT, EMAIL_TIMEOUT = _smtp.host, _smtp.port, 10
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _smtp.user, _smtp.password
    EMAIL_USE_SSL, EMAIL_USE_TLS = _smtp.use_ssl, _smtp.use_tls
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Smarter <noreply@{ROOT_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
# The languages an account may choose (accounts.validators); BCP 47 tags.
LANGUAGES = [
    ("en", "English"), ("en-US", "English (United States)"), ("en-GB", "English (United Kingdom)"),
    ("de", "German"), ("es", "Spanish"), ("fr", "French"), ("it", "Italian"), ("ja", "Japanese"),
    ("nl", "Dutch"), ("pt-BR", "Portuguese (Brazil)"), ("zh-Hans", "Chinese (Simplified)"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by whitenoise before any
# host lookup or sign-in flow, on every host.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# plain: one readable line per record (local default); json: one JSON object per line
# (structlog's formatter over the stdlib's records) with the request's id, account and fields.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
# ADMINS="Name <a@example.com>, b@example.com": mailed a 500 (DEBUG off) by the "django"
# logger, redacted, once per distinct error per ERROR_MAIL_INTERVAL.
ADMINS = [
    (address.split("<")[0].strip() or address, address.split("<")[-1].rstrip(">").strip())
    for address in env_list("ADMINS")
]
DEFAULT_EXCEPTION_REPORTER = "smarter.log_filters.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "smarter.log_filters.RedactingReporterFilter"
# One ADMINS mail per distinct error per this many seconds in each process
# (smarter.log_filters.AdminMailHandler).
ERROR_MAIL_INTERVAL = env_float("ERROR_MAIL_INTERVAL", 600)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # request id, account and workspace on every record; secrets redacted
        "request_id": {"()": "middleware.request_id.RequestIdLogFilter"},
        # django-redis's ignored errors (DJANGO_REDIS_LOGGER): one line per 30 s, no traceback
        "cache_outage": {"()": "tenancy.cache.CacheOutageLogFilter", "interval": 30},
        # a Host header outside ALLOWED_HOSTS is the client's mistake (400): one line
        "client_error": {"()": "smarter.log_filters.ClientErrorLogFilter"},
        # 4xx answers (a refused permission) without a traceback
        "client_error_traceback": {"()": "smarter.log_filters.ClientErrorTracebackFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"()": "smarter.log_filters.RedactingFormatter",
                  "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "smarter.log_filters.json_formatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "smarter.log_filters.AdminMailHandler",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "tenancy.cache": {"filters": ["cache_outage"]},
        "django.security.DisallowedHost": {"filters": ["client_error"]},
        # Django's "django" logger mails ADMINS its errors (DEBUG off), redacted and rate-limited
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.request": {"filters": ["client_error_traceback"]},
    },
}

# --- operations: metrics, health, error reports, traces (docs/OPERATIONS.md)
# /metrics answers a bearer METRICS_TOKEN, or clients on loopback only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Set (by gunicorn.conf.py) when several processes serve: prometheus_client then keeps each
# process's values in files there and /metrics adds them up. prometheus_client reads it too.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
WORKER_HEARTBEAT_INTERVAL = env_float("WORKER_HEARTBEAT_INTERVAL", 10)
WORKER_HEARTBEAT_MAX_AGE = env_float("WORKER_HEARTBEAT_MAX_AGE", 60)
TASKS_QUEUE_MAX_AGE = env_float("TASKS_QUEUE_MAX_AGE", 300)
# db_worker waits out a database outage, retrying after a pause that doubles from MIN to MAX s
WORKER_RECONNECT_MIN = env_float("WORKER_RECONNECT_MIN", 0.5)
WORKER_RECONNECT_MAX = env_float("WORKER_RECONNECT_MAX", 15)
# Per-account daily usage is counted in memory and written (one upsert per account) at most
# this often per process, and when the process exits.
USAGE_FLUSH_INTERVAL = env_float("USAGE_FLUSH_INTERVAL", 10)
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_SEND_PII = env_bool("SENTRY_SEND_PII", False)
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", ENVIRONMENT)
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0)
# OpenTelemetry traces (Django, psycopg, redis) exported over OTLP/HTTP when the endpoint is
# set; the exporter reads the other OTEL_* variables itself (headers, timeouts).
OTEL_EXPORTER_OTLP_ENDPOINT = env_str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
OTEL_SERVICE_NAME = env_str("OTEL_SERVICE_NAME", "smarter")
