"""django-hosts patterns: which URLconf serves which host shape.

Tenant resolution and validation happen in ``middleware.tenant``, which parses the host
once and serves the URLconf of the pattern named after the host's kind (django-hosts'
own middleware would match these regexes again, twice per request); django-hosts is
kept for ``reverse(..., host=...)``. Dots are escaped, account numbers have three groups of four digits,
and each pattern must match the whole host (an optional trailing dot and port allowed).
"""

import re

from django.conf import settings
from django_hosts import host, patterns

_ROOT = re.escape(settings.ROOT_DOMAIN)
_ENV = re.escape(settings.ENVIRONMENT)
_END = r"\.?(?::[0-9]{1,5})?$"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ACCOUNT = r"[0-9]{4}-[0-9]{4}-[0-9]{4}"

host_patterns = patterns(
    "",
    host(
        rf"(?i)(?:{_LABEL}\.)?{_ACCOUNT}\.{_ENV}\.api\.{_ROOT}{_END}",
        "smarter.urls.tenant",
        name="tenant",
    ),
    host(rf"(?i){_ENV}\.api\.{_ROOT}{_END}", "smarter.urls.api", name="api"),
    host(rf"(?i){_ROOT}{_END}", settings.ROOT_URLCONF, name="platform"),
)
