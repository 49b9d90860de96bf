"""Jobs for workers, written in the same transaction as the change that needs them (SPEC §8)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxJob(Model):
    id = fields.IntField(primary_key=True)
    task = fields.CharField(max_length=100)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Last time the job was handed to the broker; the relay re-sends old ones.
    handed_over_at = fields.DatetimeField(null=True)
    handovers = fields.IntField(default=0)
    done_at = fields.DatetimeField(null=True, db_index=True)
    # Why the last hand-over or handler run failed (a handler's exception, shortened).
    last_error = fields.TextField(null=True)
    # Handler runs that raised; after HOIST_OUTBOX_MAX_ATTEMPTS of them the job is dead.
    attempts = fields.IntField(default=0, db_default=0)
    # A job whose handler failed is not handed over again before this (backoff).
    retry_at = fields.DatetimeField(null=True)
    # Set when the job gave up: it is never run again unless a super-admin retries it.
    dead_at = fields.DatetimeField(null=True)
    # The W3C trace context of the span that wrote the job (tracing on and a span
    # recording, else NULL): the job's run is traced as its child (app/observability/tracing.py).
    traceparent = fields.CharField(max_length=55, null=True)
    tracestate = fields.CharField(max_length=512, null=True)

    class Meta:
        table = "outbox_jobs"
        # The health check counts dead jobs among every job ever written.
        indexes = (("dead_at",),)
