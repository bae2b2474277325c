"""Bench: like for like with django-tenants. Exactly the middlewares of
``bench/tenants_project`` (its TenantMainMiddleware replaced by the product's two tenant
middlewares, each where the request needs it), so that the one difference between the two
servers is how a host becomes a tenant: the product's other middlewares (request ids, CSP,
permissions policy, static files, outage page, allauth, MFA, rate limits, audit) are not in
it, except allauth's AccountMiddleware, which the product's apps refuse to start without (a
handicap for this side). Everything else is the product as shipped (push invalidation on)."""

from bench.settings_tenancy import *  # noqa: F403

MIDDLEWARE = [
    "middleware.tenant.TenantHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "middleware.tenant.TenantMembershipMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
