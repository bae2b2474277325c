"""smarter.hosts' patterns, every host kind routed to the trivial bench URLconf."""

from django_hosts import host, patterns

from smarter.hosts import host_patterns as _product

host_patterns = patterns("", *[host(p.regex, "bench.urls", name=p.name) for p in _product])
