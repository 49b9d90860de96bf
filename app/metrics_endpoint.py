"""GET /metrics: Prometheus's text format, behind the optional HOIST_METRICS_TOKEN.

The counters and histograms come from app/observability/metrics.py (every process's on
this machine, app/observability/multiprocess.py). The gauges of what the database holds
(requests by status, the outbox's backlog) are read here, by the API, at most every
CACHE_SECONDS whatever the number of scrapers, and are the same whichever server process
answers. A domain cannot give them: app.observability sits below the domains.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app import clock
from app.observability import exposition
from app.outbox import service as outbox
from app.promotions import repository as promotions
from app.promotions.models import PromotionStatus
from app.settings import get_settings

log = logging.getLogger("hoist.metrics")

CACHE_SECONDS = 5.0
# A scrape answers even when the database does not (without these gauges, then).
QUERY_SECONDS = 2.0


@dataclass(frozen=True)
class Snapshot:
    requests: dict[PromotionStatus, int]
    backlog: int
    oldest_age_seconds: float


async def read_snapshot() -> Snapshot:
    """What the gauges say now, in two queries."""
    requests = await promotions.count_by_status()
    pending = await outbox.backlog()
    oldest = pending.oldest_created_at
    age = 0.0 if oldest is None else max(0.0, (clock.now() - oldest).total_seconds())
    return Snapshot(requests, pending.jobs, age)


class DatabaseGauges(Collector):
    """The database's gauges, read by `refresh` (async, before the text is made) and given
    to the registry by `collect` (sync, as prometheus_client calls it)."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._read_at = float("-inf")  # time.monotonic() of the last successful read

    async def refresh(self) -> None:
        if time.monotonic() - self._read_at < CACHE_SECONDS:
            return
        try:
            self._snapshot = await asyncio.wait_for(read_snapshot(), timeout=QUERY_SECONDS)
        except Exception as exc:  # TimeoutError included: the counters are still worth a scrape
            log.warning("metrics: could not read the database: %s: %s", type(exc).__name__, exc)
            self._snapshot = None
            return
        self._read_at = time.monotonic()

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot
        if snapshot is None:
            return
        requests = GaugeMetricFamily(
            "hoist_promotion_requests",
            "Promotion requests in each status, from the database.",
            labels=["state"],
        )
        for status, count in snapshot.requests.items():
            requests.add_metric([status.value], count)
        yield requests
        yield GaugeMetricFamily(
            "hoist_outbox_backlog_jobs",
            "Worker jobs not done and not dead (waiting for a worker or a retry).",
            value=snapshot.backlog,
        )
        yield GaugeMetricFamily(
            "hoist_outbox_oldest_pending_age_seconds",
            "Age of the oldest such job (0: none).",
            value=snapshot.oldest_age_seconds,
        )


def metrics_routes() -> list[BaseRoute]:
    """/metrics, for create_app(); each app has its own cache of the database's gauges."""
    gauges = DatabaseGauges()

    async def metrics(request: Request) -> Response:
        if not exposition.authorized(
            request.headers.get("authorization"), get_settings().metrics_token
        ):
            name, value = exposition.CHALLENGE
            return Response(
                exposition.UNAUTHORIZED_BODY,
                status_code=401,
                media_type="application/json",
                headers={name: value},
            )
        await gauges.refresh()
        # Reading every process's files is disk work: off the event loop.
        text = await asyncio.to_thread(exposition.render, gauges)
        return Response(text, media_type=exposition.CONTENT_TYPE)

    return [Route("/metrics", metrics, methods=["GET"])]
