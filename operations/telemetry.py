"""Error reports (sentry-sdk) and traces (OpenTelemetry), each on only when configured.

Called once per process by ``smarter/wsgi.py`` and ``smarter/asgi.py`` (the task worker: by
``operations.observability``), after Django is set up and before the request handler builds
its middleware chain (the Django instrumentation inserts its middleware into
``settings.MIDDLEWARE``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from opentelemetry.sdk.trace.export import SpanExporter

from middleware.request_id import current_request, host_kind, request_fields
from tenancy.redaction import scrub


def setup() -> None:
    """Sentry when ``SENTRY_DSN`` is set; OpenTelemetry when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is."""
    if settings.SENTRY_DSN:
        init_sentry(settings.SENTRY_DSN)
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        init_tracing()


# --- errors: sentry-sdk ---------------------------------------------------------------------
def init_sentry(dsn: str, event_filter: Any = None) -> None:
    """sentry-sdk with Django's integration; events pass ``event_filter`` (default: this
    module's ``before_send``, which tags them with the request's tenant and redacts them)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        environment=settings.SENTRY_ENVIRONMENT,
        send_default_pii=settings.SENTRY_SEND_PII,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        # the SDK's own scrubber, into nested variables too; then the project's rule
        event_scrubber=EventScrubber(recursive=True, denylist=[
            *DEFAULT_DENYLIST, "conninfo", "dsn", "database_url", "redis_url", "email_url"]),
        before_send=event_filter or before_send,  # type: ignore[arg-type]
        before_send_transaction=before_send_transaction,  # type: ignore[arg-type]
        before_breadcrumb=before_breadcrumb,  # type: ignore[arg-type]
    )


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Tag the event with the request's account, workspace, host kind and request id; the
    user is the account member (ids only unless ``SENTRY_SEND_PII``); no secret in URLs."""
    request = current_request()
    if request is not None:
        fields = request_fields(request)
        event.setdefault("tags", {}).update(
            account=fields["account"], workspace=fields["workspace"],
            host_kind=host_kind(request), request_id=fields["request_id"],
        )
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(request, "user_profile", None)
            member: dict[str, Any] = {"id": str(user.pk)}
            if profile is not None:
                member["member_id"] = str(profile.pk)
            if settings.SENTRY_SEND_PII:
                member.update(username=user.get_username(), email=user.email)
            event["user"] = member
    return scrub(event)  # type: ignore[no-any-return]


def before_send_transaction(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """A performance trace (``SENTRY_TRACES_SAMPLE_RATE``), through the redaction rule."""
    return scrub(event)  # type: ignore[no-any-return]


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """A breadcrumb (a log line, an SQL query and its parameters), through the redaction rule."""
    return scrub(crumb)  # type: ignore[no-any-return]


# --- traces: OpenTelemetry --------------------------------------------------------------------
def response_hook(span: Any, request: HttpRequest, response: HttpResponse) -> None:
    """The server span carries the account number, workspace and request id."""
    if span is None or not span.is_recording():
        return
    fields = request_fields(request)
    span.set_attribute("account.number", str(fields["account"]))
    span.set_attribute("workspace", str(fields["workspace"]))
    span.set_attribute("request.id", str(fields["request_id"]))


def init_tracing(exporter: Any = None) -> Any:
    """Instrument Django, psycopg and redis; spans go to ``exporter`` (tests: an in-memory
    one, exported at once) or to the OTLP/HTTP endpoint in batches. The tracer provider."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(
            RedactingSpanExporter(OTLPSpanExporter(endpoint=endpoint))))
    else:
        provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(exporter)))
    DjangoInstrumentor().instrument(tracer_provider=provider, response_hook=response_hook)
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False)
    RedisInstrumentor().instrument(tracer_provider=provider)
    return provider


class RedactingSpanExporter(SpanExporter):
    """Hands ``inner`` copies of the spans whose attributes, events (a recorded exception's
    message and stack trace) and status description went through the redaction rule."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def export(self, spans: Any) -> Any:  # type: ignore[override]
        from opentelemetry.sdk.trace import Event, ReadableSpan
        from opentelemetry.trace import Status

        def clean(span: ReadableSpan) -> ReadableSpan:
            status = span.status
            if status.description:
                status = Status(status.status_code, scrub(status.description))
            return ReadableSpan(
                name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                attributes=scrub(dict(span.attributes or {})),
                events=[Event(e.name, scrub(dict(e.attributes or {})), e.timestamp)
                        for e in span.events],
                links=span.links, kind=span.kind, status=status, start_time=span.start_time,
                end_time=span.end_time, instrumentation_scope=span.instrumentation_scope)

        return self.inner.export([clean(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


def stop_tracing() -> None:
    """Undo :func:`init_tracing` (tests)."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    DjangoInstrumentor().uninstrument()
    PsycopgInstrumentor().uninstrument()
    RedisInstrumentor().uninstrument()
