"""Minimal django-tenants project: schema-per-tenant routing by host, same trivial view.

Middleware is TenantMainMiddleware plus the same Django middlewares the product uses, with
the same DEBUG-off / persistent-connection settings as the bench settings of the product.
"""

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
DEBUG = False
ALLOWED_HOSTS = [".localhost", "localhost"]

SHARED_APPS = [
    "django_tenants",
    "customers",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
]
TENANT_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
INSTALLED_APPS = SHARED_APPS + [a for a in TENANT_APPS if a not in SHARED_APPS]
TENANT_MODEL = "customers.Client"
TENANT_DOMAIN_MODEL = "customers.Domain"

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "tproject.urls"
TEMPLATES = []
WSGI_APPLICATION = "tproject.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": os.environ.get("TENANTS_DB", "smarter_bench_tenants"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
