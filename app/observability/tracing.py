"""OpenTelemetry traces: exported over OTLP when an endpoint is set, off at no cost otherwise.

`configure()` runs once per process (`hoist serve`'s, each of `--workers N`'s, each Celery
pool process's): when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
set, it installs a TracerProvider that sends spans in batches with the OTLP/HTTP exporter,
which reads the other standard variables itself (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT,
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES...). Unset, nothing is installed: no SDK
imported, no middleware, no GraphQL extension, no SQL hooks; `provider()` is None and the
global tracer provider stays OpenTelemetry's no-op proxy.

The trace goes *through the outbox row*: `outbox_context()` is the current span's W3C
traceparent (and tracestate), stored on the job when it is written; `job_span()` starts the
job run's span as a child of it, however late and in whatever process the job runs (the
relay may hand it over again an hour later). So a promotion's worker span is a descendant
of the GraphQL mutation that asked for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from app.observability import redaction
from app.settings import otlp_traces_configured

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from starlette.middleware import Middleware

API_SERVICE = "hoist-api"
WORKER_SERVICE = "hoist-worker"

# The W3C header's length: version, trace id, parent id and flags (00-<32>-<16>-<2>).
TRACEPARENT_LENGTH = 55
# The W3C limit of a tracestate header (32 members); a longer one is not kept.
TRACESTATE_LENGTH = 512

# Polled by load balancers and uptime checkers every few seconds: not worth a trace each.
UNTRACED_PATHS = "/healthz,/readyz"

_provider: TracerProvider | None = None


def provider() -> TracerProvider | None:
    """The provider Hoist's spans go to; None while tracing is off."""
    return _provider


def configure(service: str, database_url: str | None = None) -> TracerProvider | None:
    """Turn tracing on for this process when an OTLP endpoint is set (once; later calls
    return the same provider). `service` is the default OTEL_SERVICE_NAME."""
    if _provider is not None or not otlp_traces_configured():
        return _provider
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    created = new_provider(service)
    created.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # Global too, so that any library instrumented by the operator reports to it.
    trace.set_tracer_provider(created)
    install(created, database_url)
    return created


def new_provider(service: str) -> TracerProvider:
    """A provider whose resource is the standard variables', service.name defaulting to
    `service` (OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES override it)."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    return TracerProvider(resource=resource)


def install(tracer_provider: TracerProvider, database_url: str | None = None) -> None:
    """Send Hoist's spans to `tracer_provider` (configure's; a test's, with an in-memory
    exporter), and trace SQL when the database is PostgreSQL (asyncpg)."""
    global _provider
    _provider = tracer_provider
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=tracer_provider)


def shutdown() -> None:
    """Tracing off again in this process (a pool process stopping; a test), the spans not
    yet exported sent first."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    _provider.shutdown()
    _provider = None


def tracer() -> Tracer:
    assert _provider is not None, "tracing is off"
    return _provider.get_tracer("hoist")


def current_ids() -> tuple[str | None, str | None]:
    """The current span's trace and span ids in hex (the log lines'); None, None without one."""
    if _provider is None:
        return None, None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def outbox_context() -> tuple[str | None, str | None]:
    """The current span's W3C traceparent and tracestate, to store on an outbox job; None,
    None when tracing is off or no span is recording (nothing to continue)."""
    if _provider is None:
        return None, None
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    if not trace.get_current_span().is_recording():
        return None, None
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    traceparent = carrier.get("traceparent")
    if traceparent is None or len(traceparent) > TRACEPARENT_LENGTH:
        return None, None
    tracestate = carrier.get("tracestate") or None
    if tracestate is not None and len(tracestate) > TRACESTATE_LENGTH:
        tracestate = None
    return traceparent, tracestate


@contextmanager
def job_span(
    kind: str, job_id: int, attempt: int, traceparent: str | None, tracestate: str | None
) -> Iterator[None]:
    """The span of one run of an outbox job: a child of the span that wrote the job (its
    traceparent), linked to the span it runs in (Celery's task span), if any. Nothing
    while tracing is off."""
    if _provider is None:
        yield
        return
    from opentelemetry import trace
    from opentelemetry.trace import Link, SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = None
    links: list[Link] = []
    if traceparent is not None:
        carrier = {"traceparent": traceparent}
        if tracestate:
            carrier["tracestate"] = tracestate
        parent = TraceContextTextMapPropagator().extract(carrier)
        running_in = trace.get_current_span().get_span_context()
        if running_in.is_valid:
            links.append(Link(running_in))
    with tracer().start_as_current_span(
        f"hoist.job {kind}",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={"hoist.job.kind": kind, "hoist.job.id": job_id, "hoist.job.attempt": attempt},
    ):
        yield


def asgi_middleware() -> list[Middleware]:
    """OpenTelemetry's ASGI middleware (a SERVER span per request), outermost; none while
    tracing is off. Paths and URLs are scrubbed (an email link's path is a credential)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.middleware import Middleware

    return [
        Middleware(
            OpenTelemetryMiddleware,
            tracer_provider=_provider,
            excluded_urls=UNTRACED_PATHS,
            # One span per request, not one more per body chunk sent or received.
            exclude_spans=["receive", "send"],
            default_span_details=_span_details,
            server_request_hook=_scrub_url_attributes,
        )
    ]


def _span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from opentelemetry.instrumentation.asgi import get_default_span_details

    name, attributes = get_default_span_details(scope)
    return redaction.scrub(name), attributes


_URL_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full", "url.query")


def _scrub_url_attributes(span: Span, scope: dict[str, Any]) -> None:
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, redaction.scrub(value))


def set_attributes(**attributes: str | int | None) -> None:
    """Set attributes on the current span (the request's, a job's); nothing when off."""
    if _provider is None:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    for name, value in attributes.items():
        if value is not None:
            span.set_attribute(f"hoist.{name}", value)
