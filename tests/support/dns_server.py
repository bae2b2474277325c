"""A real authoritative DNS server on loopback (dnslib), with records a test can change.

``dns_zone`` starts one per test on a free UDP port and points the verification resolver
(``CUSTOM_DOMAIN_DNS_NAMESERVERS`` / ``CUSTOM_DOMAIN_DNS_PORT``) at it. Names without
records answer NXDOMAIN; ``zone.failing = True`` answers SERVFAIL (a broken DNS).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from dnslib import CNAME, QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSServer


class Zone(BaseResolver):
    """Records by (lower-case name without the final dot) -> [(type, value)]."""

    def __init__(self) -> None:
        self.records: dict[str, list[tuple[str, str]]] = {}
        self.failing = False
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def set(self, name: str, rtype: str, *values: str) -> None:
        """Replace ``name``'s records of ``rtype`` with ``values`` (none: remove them)."""
        name = name.rstrip(".").lower()
        with self._lock:
            kept = [r for r in self.records.get(name, []) if r[0] != rtype]
            self.records[name] = kept + [(rtype, v) for v in values]
            if not self.records[name]:
                del self.records[name]

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        with self._lock:
            self.queries.append((qname, qtype))
            if self.failing:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            records = list(self.records.get(qname, []))
        if not records:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for rtype, value in records:
            if rtype == qtype == "TXT":
                reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
            elif rtype == qtype == "CNAME":
                reply.add_answer(RR(qname, QTYPE.CNAME, rdata=CNAME(value + "."), ttl=60))
        return reply


class _QuietLog:
    """dnslib logs every query to stdout by default."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return lambda *args, **kwargs: None


@pytest.fixture
def dns_zone(settings) -> Iterator[Zone]:  # type: ignore[no-untyped-def]
    zone = Zone()
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=_QuietLog())
    server.start_thread()
    try:
        settings.CUSTOM_DOMAIN_DNS_NAMESERVERS = ["127.0.0.1"]
        settings.CUSTOM_DOMAIN_DNS_PORT = server.server.server_address[1]
        settings.CUSTOM_DOMAIN_DNS_TIMEOUT = 2
        yield zone
    finally:
        server.stop()
        server.server.server_close()
