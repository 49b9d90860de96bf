"""From the audit log to deliveries: each published event once per endpoint that wants it.

The audit log is Hoist's one record of what happened, written in the transaction of the
change itself (app/audit), so it holds exactly the committed changes, in order. The
fan-out sweep takes the events not yet handed on (`published_at` NULL, oldest first),
renders each published one as a CloudEvent once, and writes a delivery for every active
endpoint whose filters match, then marks the batch, all in one transaction. The
deliveries' unique key (endpoint, event) makes a second sweep running at once harmless:
its rows are skipped (ON CONFLICT DO NOTHING), so each endpoint gets each event once.
A state change costs its request nothing more than its audit INSERT.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from cloudevents.conversion import to_structured
from cloudevents.http import CloudEvent

from app import clock, ids
from app.audit.models import AuditEvent
from app.audit.rows import ROW_ID_KEYS
from app.db import after_commit, insert_new, unit_of_work
from app.notifications.content import RequestFacts
from app.notifications.service import request_facts
from app.outbox.registry import SWEEP_BATCH
from app.promotions.models import PromotionRequest
from app.settings import get_settings
from app.webhooks import chat, kinds
from app.webhooks.delivery import deliver
from app.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookFormat

CLOUDEVENTS_JSON = "application/cloudevents+json"


async def fan_out() -> int:
    """Hand on the oldest unpublished audit events; how many deliveries were written."""
    async with unit_of_work():
        events = (
            await AuditEvent.filter(published_at__isnull=True)
            .order_by("id")
            .limit(SWEEP_BATCH)
            .select_related("actor")
        )
        if not events:
            return 0
        endpoints = await WebhookEndpoint.filter(active=True).order_by("id")
        now = clock.now()
        rows: list[WebhookDelivery] = []
        for event in events:
            type_ = kinds.event_type(event.action)
            wanting = [e for e in endpoints if type_ is not None and _wants(e, type_, event)]
            if not wanting:
                continue
            assert type_ is not None
            bodies = Bodies(event, type_)
            for endpoint in wanting:
                body, content_type = await bodies.of(endpoint.format)
                rows.append(
                    WebhookDelivery(
                        endpoint_id=endpoint.id,
                        audit_event_id=event.id,
                        event_id=ids.global_id("AuditEvent", event.id),
                        event_type=type_,
                        body=body,
                        content_type=content_type,
                        next_attempt_at=now,
                    )
                )
        written = await insert_new(rows, "endpoint_id", "audit_event_id") if rows else []
        await AuditEvent.filter(id__in=[e.id for e in events], published_at__isnull=True).update(
            published_at=now
        )
        new = [row.id for row in written]
        if new:
            after_commit(lambda: deliver(new))
    return len(written)


def _wants(endpoint: WebhookEndpoint, type_: str, event: AuditEvent) -> bool:
    if endpoint.event_types and type_ not in endpoint.event_types:
        return False
    return not endpoint.applications or event.application in endpoint.applications


class Bodies:
    """One event's body in each format an endpoint asks for, each rendered once."""

    def __init__(self, event: AuditEvent, type_: str) -> None:
        self.event = event
        self.type = type_
        self.rendered: dict[WebhookFormat, tuple[str, str]] = {}

    async def of(self, format: WebhookFormat) -> tuple[str, str]:
        """(body, Content-Type) in `format`."""
        if format not in self.rendered:
            self.rendered[format] = await self._render(format)
        return self.rendered[format]

    async def _render(self, format: WebhookFormat) -> tuple[str, str]:
        if format == WebhookFormat.CLOUDEVENTS:
            return render(self.event, self.type), CLOUDEVENTS_JSON
        said = chat.message(self.type, _data(self.event), await _request_facts(self.event))
        text = chat.slack(said) if format == WebhookFormat.SLACK else chat.teams(said)
        return text, "application/json"


async def _request_facts(event: AuditEvent) -> RequestFacts | None:
    """What a chat message about a promotion request's event tells of the request, read
    now (None: not a request's event, or the request is gone)."""
    request_id = event.data.get("request_id")
    if not event.action.startswith("promotion.") or not isinstance(request_id, int):
        return None
    request = await PromotionRequest.get_or_none(id=request_id).select_related(
        "application", "target_environment", "image", "requested_by"
    )
    return await request_facts(request) if request is not None else None


def render(event: AuditEvent, type_: str) -> str:
    """The event as a CloudEvents 1.0 structured-mode JSON body."""
    attributes = {
        "id": ids.global_id("AuditEvent", event.id),
        "source": get_settings().public_url.rstrip("/") or "hoist",
        "type": type_,
        "time": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
    }
    data = _data(event)
    subject = data.get("requestId") or data.get("deploymentId") or data.get("imageId")
    if subject:
        attributes["subject"] = subject
    _, body = to_structured(CloudEvent(attributes, data))
    return body.decode() if isinstance(body, bytes) else str(body)


def _data(event: AuditEvent) -> dict[str, Any]:
    """What the audit event says, with row ids as the API's global ids, camel-cased."""
    data: dict[str, Any] = {
        "action": event.action,
        "application": event.application,
        "environment": event.environment,
        "actor": event.actor.email if event.actor else None,
    }
    for key, value in event.data.items():
        if key in ROW_ID_KEYS and isinstance(value, int):
            value = ids.global_id(ROW_ID_KEYS[key], value)
        data[_camel(key)] = value
    return data


def _camel(key: str) -> str:
    first, *rest = key.split("_")
    return first + "".join(part.title() for part in rest)
