"""DNS lookups for verification, with dnspython.

The resolver asks ``CUSTOM_DOMAIN_DNS_NAMESERVERS`` on ``CUSTOM_DOMAIN_DNS_PORT`` when set
(tests point it at a DNS server on loopback), else the system's resolver. A name or record
that does not exist is an answer (an empty list); a lookup that could not be completed
(timeout, SERVFAIL, no nameserver) raises :class:`DnsLookupError`, so a DNS outage is never
mistaken for a removed record.
"""

from __future__ import annotations

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings


class DnsLookupError(Exception):
    """The lookup could not be completed; nothing is known about the record."""


def resolver() -> dns.resolver.Resolver:
    """A resolver per the settings (no caching: every check asks the DNS)."""
    servers = list(settings.CUSTOM_DOMAIN_DNS_NAMESERVERS)
    res = dns.resolver.Resolver(configure=not servers)
    if servers:
        res.nameservers = servers
        res.port = int(settings.CUSTOM_DOMAIN_DNS_PORT)
    res.timeout = res.lifetime = float(settings.CUSTOM_DOMAIN_DNS_TIMEOUT)
    return res


def _answer(name: str, rdtype: str) -> dns.resolver.Answer | None:
    try:
        return resolver().resolve(name, rdtype, raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return None
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.NoResolverConfiguration,
            dns.resolver.YXDOMAIN, dns.name.NameTooLong) as exc:
        raise DnsLookupError(f"{rdtype} lookup of {name} failed: {exc.__class__.__name__}") from None
    except dns.exception.DNSException as exc:
        raise DnsLookupError(f"{rdtype} lookup of {name} failed: {exc}") from None


def txt_values(name: str) -> list[str]:
    """The TXT strings at ``name`` (multi-string records joined), empty when there are none."""
    answer = _answer(name, "TXT")
    if answer is None or answer.rrset is None:
        return []
    return [b"".join(r.strings).decode("ascii", "replace") for r in answer.rrset]  # type: ignore[attr-defined]


def cname_target(name: str) -> str:
    """Where ``name``'s CNAME points (without the final dot), or ""."""
    answer = _answer(name, "CNAME")
    if answer is None or answer.rrset is None:
        return ""
    for record in answer.rrset:
        return str(record.target).rstrip(".").lower()  # type: ignore[attr-defined]
    return ""
