"""Trying deliveries: each POSTed until the endpoint answers 2xx, at least once.

A try *claims* its delivery first (`UPDATE ... SET attempts = n + 1, claimed_at = now
WHERE state = 'PENDING' AND attempts = n`, committed at once), so of workers running at
once exactly one tries it; the POST runs outside any transaction; the outcome is recorded
only if the claim is still the try's own. A worker that dies between claim and outcome
leaves a claim that nobody records: once it is HOIST_WEBHOOK_CLAIM_TIMEOUT_SECONDS old
the delivery is due again. So a receiver may see an event twice (at least once, as
webhooks are everywhere) and deduplicates by the CloudEvent's `id` (also in
`X-Hoist-Delivery`).

A failed try (no answer, or not 2xx) waits with exponential backoff
(HOIST_WEBHOOK_RETRY_BASE_SECONDS, doubling, at most HOIST_WEBHOOK_RETRY_MAX_SECONDS)
and after HOIST_WEBHOOK_MAX_ATTEMPTS tries the delivery is FAILED (redeliverable by
hand). Failures in a row count on the endpoint; at HOIST_WEBHOOK_DISABLE_AFTER it is
switched off, with an audit record and an email to the super-admins, and its pending
deliveries wait until it is switched on again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import httpx
from tortoise.expressions import F, Q

from app import clock, signatures
from app.accounts.access import SYSTEM
from app.audit.service import record
from app.db import unit_of_work
from app.notifications.models import NotificationEvent
from app.notifications.service import email_super_admins
from app.observability import metrics
from app.outbox.registry import SWEEP_BATCH
from app.settings import Settings, get_settings
from app.webhooks import addresses
from app.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("hoist.webhooks")

_RESPONSE_LIMIT = 500


def due(settings: Settings) -> Q:
    """The deliveries a worker should try now: pending, past their backoff, of an active
    endpoint, and not in another try's hands (or in those of a try that died)."""
    now = clock.now()
    stale = now - timedelta(seconds=settings.webhook_claim_timeout_seconds)
    return Q(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale),
        state=DeliveryState.PENDING,
        next_attempt_at__lte=now,
        endpoint__active=True,
    )


async def deliver_due() -> int:
    """Try every due delivery (oldest first, a batch); how many were delivered."""
    settings = get_settings()
    rows = (
        await WebhookDelivery.filter(due(settings))
        .order_by("next_attempt_at", "id")
        .limit(SWEEP_BATCH)
    )
    return await deliver([row.id for row in rows])


async def deliver(delivery_ids: Sequence[int]) -> int:
    """Try these deliveries now, those still due; how many were delivered."""
    settings = get_settings()
    delivered = 0
    async with httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds, follow_redirects=False
    ) as client:
        for delivery_id in delivery_ids:
            delivered += await _try(client, delivery_id, settings)
    return delivered


async def _try(client: httpx.AsyncClient, delivery_id: int, settings: Settings) -> bool:
    delivery = (
        await WebhookDelivery.filter(due(settings), id=delivery_id)
        .select_related("endpoint")
        .first()
    )
    if delivery is None:
        return False  # delivered, failed, in another try's hands, or not due yet
    claimed_at = clock.now()
    claimed = await WebhookDelivery.filter(
        id=delivery.id, state=DeliveryState.PENDING, attempts=delivery.attempts
    ).update(attempts=delivery.attempts + 1, claimed_at=claimed_at)
    if not claimed:
        return False
    endpoint = delivery.endpoint
    status, response, error = await _post(client, endpoint, delivery, settings)
    mine = WebhookDelivery.filter(id=delivery.id, claimed_at=claimed_at)
    if status is not None and 200 <= status < 300:
        metrics.WEBHOOK_DELIVERIES.labels(metrics.WEBHOOK_DELIVERED).inc()
        await mine.update(
            state=DeliveryState.DELIVERED,
            delivered_at=clock.now(),
            claimed_at=None,
            last_status=status,
            last_response=response,
            last_error=None,
        )
        await WebhookEndpoint.filter(id=endpoint.id).update(consecutive_failures=0)
        return True
    failure = metrics.WEBHOOK_NO_ANSWER if status is None else metrics.WEBHOOK_REFUSED_ANSWER
    metrics.WEBHOOK_DELIVERIES.labels(failure).inc()
    attempts = delivery.attempts + 1
    failed = attempts >= settings.webhook_max_attempts
    wait = clock.backoff(
        attempts, settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds
    )
    await mine.update(
        state=DeliveryState.FAILED if failed else DeliveryState.PENDING,
        next_attempt_at=clock.now() + wait,
        claimed_at=None,
        last_status=status,
        last_response=response,
        last_error=error,
    )
    await _count_failure(endpoint, error, settings)
    return False


async def _post(
    client: httpx.AsyncClient,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    settings: Settings,
) -> tuple[int | None, str | None, str | None]:
    """(status, start of the answer, Hoist's words for the failure) of one POST."""
    refused = await addresses.address_problem(endpoint.url, settings.webhook_allow_private)
    if refused is not None:
        return None, None, f"not sent: {refused}"[:300]
    body = delivery.body.encode()
    headers = signatures.signed_headers(
        endpoint.secret, delivery.event_id, body, delivery.content_type
    )
    try:
        answer = await client.post(endpoint.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return None, None, f"no answer within {settings.webhook_timeout_seconds:g} s"
    except httpx.TransportError as exc:
        # The exception's text may carry the URL (and a token in it): logs only.
        log.warning("webhook %s unreachable: %s", endpoint.name, exc)
        return None, None, f"could not reach the endpoint ({type(exc).__name__})"
    error = None if answer.is_success else signatures.answer_reason(answer.status_code)
    return answer.status_code, answer.text[:_RESPONSE_LIMIT], error


async def _count_failure(
    endpoint: WebhookEndpoint, last_error: str | None, settings: Settings
) -> None:
    """One more failure in a row; at the limit the endpoint is switched off, once."""
    await WebhookEndpoint.filter(id=endpoint.id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    limit = settings.webhook_disable_after
    reason = f"switched off after {limit} failed tries in a row"
    async with unit_of_work():
        switched = await WebhookEndpoint.filter(
            id=endpoint.id, active=True, consecutive_failures__gte=limit
        ).update(active=False, disabled_reason=reason)
        if switched:
            await record(SYSTEM, "webhook.disabled", endpoint=endpoint.name, reason=reason)
            await email_super_admins(
                NotificationEvent.WEBHOOK_DISABLED,
                f"Webhook endpoint switched off | {endpoint.name}",
                f"Hoist stopped sending events to the webhook endpoint {endpoint.name}: {reason}. "
                "Its undelivered events wait until it is switched on again.",
                [
                    ("Endpoint", endpoint.name),
                    ("URL", endpoint.url),
                    ("Last error", last_error or "—"),
                    (
                        "Switch it on",
                        f'updateWebhookEndpoint(name: "{endpoint.name}", input: {{active: true}})',
                    ),
                ],
            )
