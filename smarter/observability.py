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

from middleware.request_id import current_request, host_kind, request_fields
from smarter.log_filters import redact


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

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        environment=settings.SENTRY_ENVIRONMENT,
        send_default_pii=settings.SENTRY_SEND_PII,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        before_send=event_filter or before_send,  # type: ignore[arg-type]
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
    return _redacted(event)  # type: ignore[no-any-return]


def _redacted(value: Any) -> Any:
    """Every string of the event through :func:`redact`: URLs, query strings, and the reprs
    of requests in stack frames' variables (``<WSGIRequest: GET '/?token=…'>``)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


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
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    DjangoInstrumentor().instrument(tracer_provider=provider, response_hook=response_hook)
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False)
    RedisInstrumentor().instrument(tracer_provider=provider)
    return provider


def stop_tracing() -> None:
    """Undo :func:`init_tracing` (tests)."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    DjangoInstrumentor().uninstrument()
    PsycopgInstrumentor().uninstrument()
    RedisInstrumentor().uninstrument()
