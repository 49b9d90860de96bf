"""Hoist's Prometheus metrics, each defined once here; README "Metrics" lists them.

prometheus_client decides when it is first imported whether values live in this process's
memory or in files of the multiprocess folder (PROMETHEUS_MULTIPROC_DIR), so the commands
that start processes set that folder first (app/observability/multiprocess.py).

Every label takes a bounded set of values: outcome codes, enum members, job names, the
names of the schema's root fields. Never an image tag, a user's email or a client's own
operation name, which would make a new series for every value ever seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable
from datetime import datetime

from prometheus_client import Counter, Histogram

from app import clock, db

# Seconds to days: a request waits for people, not machines.
_HUMAN_BUCKETS = (1, 10, 60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 604800)
_JOB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

GRAPHQL_OPERATIONS = Counter(
    "hoist_graphql_operations_total",
    "GraphQL operations by root field (app/graphql/metrics.py) and result.",
    ["operation", "result"],
)
GRAPHQL_DURATION = Histogram(
    "hoist_graphql_operation_duration_seconds",
    "Time to answer a GraphQL query or mutation, by root field.",
    ["operation"],
)
PROMOTIONS = Counter(
    "hoist_promotions_total",
    "Promotion targets asked for, by outcome code (PROMOTING, AWAITING_APPROVAL, FORBIDDEN...).",
    ["outcome"],
)
APPROVAL_DECISIONS = Counter(
    "hoist_approval_decisions_total",
    "Approvals and rejections asked for, by kind and outcome code.",
    ["kind", "outcome"],
)
APPROVAL_WAIT = Histogram(
    "hoist_approval_wait_seconds",
    "From a request's creation to its quorum (requests that awaited approval).",
    buckets=_HUMAN_BUCKETS,
)
REQUEST_LIFETIME = Histogram(
    "hoist_promotion_request_lifetime_seconds",
    "From a request's creation to its end (promoted, rejected, cancelled, stale, expired).",
    ["status"],
    buckets=_HUMAN_BUCKETS,
)
EMAILS = Counter(
    "hoist_emails_total",
    "Tries to send an email, by provider and result.",
    ["provider", "result"],
)
WEBHOOK_DELIVERIES = Counter(
    "hoist_webhook_deliveries_total",
    "Tries to deliver an event webhook, by result.",
    ["result"],
)
WORKER_JOB_DURATION = Histogram(
    "hoist_worker_job_duration_seconds",
    "Time one run of an outbox job took, by job name.",
    ["task"],
    buckets=_JOB_BUCKETS,
)

# Results of an email try (app/notifications/delivery.py).
EMAIL_SENT, EMAIL_TRANSIENT, EMAIL_PERMANENT, EMAIL_UNREACHABLE = (
    "sent",
    "transient_failure",
    "permanent_failure",
    "unreachable",
)
# Results of a webhook try (app/webhooks/delivery.py).
WEBHOOK_DELIVERED, WEBHOOK_REFUSED_ANSWER, WEBHOOK_NO_ANSWER = (
    "delivered",
    "error_status",
    "no_answer",
)
OTHER = "other"  # a job name no handler has: never a label of its own


def when_committed(record: Callable[[], None]) -> None:
    """Record once the surrounding unit of work commits, so a transaction rolled back (and
    maybe run again: SQLite's busy retry) counts nothing; at once outside one."""
    if not db.unit_of_work_open():
        record()
        return

    async def run() -> None:
        record()

    db.after_commit(run)


def count_after_commit(counter: Counter, label_sets: Iterable[tuple[str, ...]]) -> None:
    """Add one to `counter` for each set of label values, after commit."""
    labels = [tuple(str(value) for value in values) for values in label_sets]

    def record() -> None:
        for values in labels:
            counter.labels(*values).inc()

    when_committed(record)


def _since(start: datetime) -> float:
    return max(0.0, (clock.now() - start).total_seconds())


def observe_quorum(created_at: datetime) -> None:
    """A request awaiting approval reached its quorum now."""
    waited = _since(created_at)
    when_committed(lambda: APPROVAL_WAIT.observe(waited))


def observe_end(created_at: datetime, status: str) -> None:
    """A request reached the end state `status` now."""
    lived = _since(created_at)
    when_committed(lambda: REQUEST_LIFETIME.labels(status).observe(lived))


class JobTimer:
    """One run of an outbox job, from its handler's start to the end of its unit of work
    (the work it asked for after commit, such as sending its emails, included). A run
    skipped before its handler (done already, held elsewhere) records nothing."""

    def __init__(self, known: Container[str]) -> None:
        self._known = known
        self._task: str | None = None
        self._started = 0.0

    def start(self, task: str) -> None:
        # A row's task column is free text: a name no handler has is OTHER, not a label.
        self._task = task if task in self._known else OTHER
        self._started = time.perf_counter()

    def observe(self) -> None:
        if self._task is not None:
            WORKER_JOB_DURATION.labels(self._task).observe(time.perf_counter() - self._started)
