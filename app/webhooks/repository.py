"""Reads of endpoints and deliveries by id, for node(id:) and the payloads."""

from __future__ import annotations

from collections.abc import Sequence

from app.webhooks.models import WebhookDelivery, WebhookEndpoint


async def endpoints_by_ids(ids: Sequence[int]) -> list[WebhookEndpoint]:
    return await WebhookEndpoint.filter(id__in=list(ids))


async def deliveries_by_ids(ids: Sequence[int]) -> list[WebhookDelivery]:
    return await WebhookDelivery.filter(id__in=list(ids)).select_related("endpoint")
