"""The text a scraper reads: this machine's metrics (every process's, in multiprocess
mode) plus collectors of the caller's, behind the optional bearer token."""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from pydantic import SecretStr

from app.observability.multiprocess import multiprocess_dir

log = logging.getLogger("hoist.metrics")

# The text format every Prometheus reads (2.x included: Debian's is 2.42); Hoist's names
# need none of 1.0.0's escaping, so generate_latest's text is this format.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
UNAUTHORIZED_BODY = json.dumps(
    {
        "errors": [
            {
                "message": "send the metrics token: Authorization: Bearer <HOIST_METRICS_TOKEN>",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
).encode()
CHALLENGE = ("WWW-Authenticate", 'Bearer realm="metrics"')


def authorized(header: str | None, token: SecretStr | None) -> bool:
    """Whether an Authorization header carries the metrics token (always, with none set)."""
    if token is None:
        return True
    scheme, _, given = (header or "").partition(" ")
    # compare_digest: how long a wrong token took to refuse says nothing of the right one.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.get_secret_value().encode()
    )


class _Collected(Collector):
    """Another registry's metrics, through this one."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        yield from self._collect()


def render(*extra: Collector) -> bytes:
    """The exposition text: every process's metrics in the multiprocess folder (this
    process's own, in memory, without one), then `extra`. Reads files: not on the loop."""
    registry = CollectorRegistry(auto_describe=False)
    folder = multiprocess_dir()
    if folder is not None:
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    else:
        registry.register(_Collected(REGISTRY.collect))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """A scrape every few seconds is not news."""


def serve_in_thread(host: str, port: int, token: SecretStr | None) -> threading.Thread:
    """Serve /metrics (this machine's, `render()`) on host:port from a daemon thread: for
    `hoist worker`, which has no HTTP server of its own (HOIST_WORKER_METRICS_PORT)."""

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        header = environ.get("HTTP_AUTHORIZATION")
        if not authorized(header if isinstance(header, str) else None, token):
            start_response("401 Unauthorized", [("Content-Type", "application/json"), CHALLENGE])
            return [UNAUTHORIZED_BODY]
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"errors": [{"message": "not found: the metrics are at /metrics"}]}']
        start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
        return [render()]

    server = make_server(host, port, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    log.info("worker metrics at http://%s:%d/metrics", host, port)
    return thread
