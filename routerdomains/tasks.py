"""The provisioning tasks, defined in :mod:`routerdomains.provisioning` (they enqueue each other
through its steps). Named here too: tasks queued under this module's path still resolve."""

from .provisioning import remove_router_domain, sync_router_domain

__all__ = ["remove_router_domain", "sync_router_domain"]
