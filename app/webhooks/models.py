"""Webhook endpoints and their deliveries: the deliveries are the durable queue."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class WebhookFormat(StrEnum):
    """How the events are written: CloudEvents for programs, or a chat's own message."""

    CLOUDEVENTS = "CLOUDEVENTS"
    SLACK = "SLACK"
    TEAMS = "TEAMS"


class WebhookEndpoint(Model):
    """Where a super-admin wants events POSTed, and which of them."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    url = fields.CharField(max_length=2000)
    format = fields.CharEnumField(WebhookFormat, max_length=16, default=WebhookFormat.CLOUDEVENTS)
    # The HMAC key. Hoist must sign with it, so it is stored as given (the API never shows
    # it again after creation); a leaked database leaks it, as it leaks the API tokens'
    # hashes' worth of trust: rotate it with updateWebhookEndpoint(rotateSecret: true).
    secret = fields.CharField(max_length=200)
    # Event types it wants (CloudEvents `type` values); empty: every type.
    event_types: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # Application names it wants; empty: every application.
    applications: fields.JSONField[list[str]] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    # Failed tries in a row; at HOIST_WEBHOOK_DISABLE_AFTER the endpoint is switched off.
    consecutive_failures = fields.IntField(default=0)
    disabled_reason = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_endpoints"


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    # Every attempt used up, or the endpoint was switched off: redeliver by hand.
    FAILED = "FAILED"


class WebhookDelivery(Model):
    """One event for one endpoint. The body is rendered when the event is fanned out, so it
    tells what was true then; each try signs it afresh."""

    id = fields.IntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "hoist.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: int
    # The audit event it tells of: at most one delivery per (endpoint, event).
    audit_event_id = fields.IntField()
    event_id = fields.CharField(max_length=64)  # the CloudEvent's id, the same for every endpoint
    event_type = fields.CharField(max_length=100)
    body = fields.TextField()
    content_type = fields.CharField(max_length=64, default="application/cloudevents+json")
    state = fields.CharEnumField(DeliveryState, max_length=16, default=DeliveryState.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # Set by the worker trying it now (a conditional UPDATE): no other tries it meanwhile.
    # A claim older than HOIST_WEBHOOK_CLAIM_TIMEOUT_SECONDS is a worker that died
    # mid-try: the delivery is tried again (at least once).
    claimed_at = fields.DatetimeField(null=True)
    # The last try's outcome: the receiver's status and the start of its answer (only
    # super-admins read deliveries), or, when there was no answer, why in Hoist's words.
    last_status = fields.IntField(null=True)
    last_response = fields.CharField(max_length=500, null=True)
    last_error = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        unique_together = (("endpoint", "audit_event_id"),)
        indexes = (("state", "next_attempt_at"),)
