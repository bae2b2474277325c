"""Tenant hosts: ACCOUNT.ENV.api.ROOT and WORKSPACE.ACCOUNT.ENV.api.ROOT.

Beside every host's patterns: SCIM 2.0 provisioning (an account's own, so tenant hosts only)."""

from django.urls import include, path

from .common import handler400, handler403, handler404, handler500
from .common import urlpatterns as common_patterns

urlpatterns = [*common_patterns, path("scim/v2/", include("identity.scim.urls"))]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
