"""Tenant hosts: ACCOUNT.ENV.api.ROOT and WORKSPACE.ACCOUNT.ENV.api.ROOT."""

from .common import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
