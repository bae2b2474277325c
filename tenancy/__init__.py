"""Generic tenancy machinery: host parsing, the two-level cache, abstract models, context.

``tenancy.register(Model, ...)`` declares a tenant model (``tenancy.registry``)."""

from .registry import Portability, register

__all__ = ["Portability", "register"]
