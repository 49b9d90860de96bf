"""The webhooks' rules: super-admins register endpoints, see their deliveries and redeliver."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.queryset import QuerySet

from app import clock, limits
from app.accounts.access import Access
from app.audit.service import record
from app.catalog.models import Application
from app.db import column, get_named
from app.errors import DomainError, ErrorCollector, conflict, not_found, validation
from app.settings import get_settings
from app.validation import check_name
from app.webhooks import addresses, kinds
from app.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookFormat

# A generated secret: 32 random bytes, URL-safe text.
_SECRET_BYTES = 32
MIN_SECRET = 16


@dataclass(frozen=True)
class EndpointFields:
    """What a super-admin sets on an endpoint; None in an update: unchanged."""

    url: str | None = None
    format: WebhookFormat | None = None
    event_types: Sequence[str] | None = None
    applications: Sequence[str] | None = None
    active: bool | None = None


async def create_endpoint(
    access: Access, name: str, fields: EndpointFields, secret: str | None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (generated when not given; shown this once)."""
    access.require_super_admin()
    errors = ErrorCollector()
    _keep(errors, check_name(name, "name", min_len=3))
    if fields.url is None:
        errors.add(validation("url is required", "url"))
    _keep(errors, _check_secret(secret))
    await _check(fields, errors)
    errors.raise_if_any()
    if await WebhookEndpoint.exists(name=name):
        raise conflict(f"a webhook endpoint named {name} exists already", "name")
    key = secret or secrets.token_urlsafe(_SECRET_BYTES)
    assert fields.url is not None
    endpoint = await WebhookEndpoint.create(
        name=name,
        url=fields.url,
        format=fields.format or WebhookFormat.CLOUDEVENTS,
        secret=key,
        event_types=list(fields.event_types or []),
        applications=list(fields.applications or []),
        active=fields.active if fields.active is not None else True,
    )
    await record(access, "webhook.created", endpoint=name, url=fields.url)
    return endpoint, key


async def update_endpoint(
    access: Access, name: str, fields: EndpointFields, rotate_secret: bool
) -> tuple[WebhookEndpoint, str | None]:
    """Change the given fields; a new secret when asked (shown this once). Switching an
    endpoint on again clears its failures, and its pending deliveries go out again."""
    access.require_super_admin()
    errors = ErrorCollector()
    await _check(fields, errors)
    errors.raise_if_any()
    endpoint = await _endpoint(name)
    changes: dict[str, object] = {}
    if fields.url is not None:
        changes["url"] = fields.url
    if fields.format is not None:
        changes["format"] = fields.format
    if fields.event_types is not None:
        changes["event_types"] = list(fields.event_types)
    if fields.applications is not None:
        changes["applications"] = list(fields.applications)
    if fields.active is not None:
        changes["active"] = fields.active
        if fields.active:
            changes.update(consecutive_failures=0, disabled_reason=None)
    key = secrets.token_urlsafe(_SECRET_BYTES) if rotate_secret else None
    if key is not None:
        changes["secret"] = key
    if changes:
        await WebhookEndpoint.filter(id=endpoint.id).update(**changes)
        await endpoint.refresh_from_db()
        shown = sorted(k for k in changes if k not in ("secret", "consecutive_failures"))
        await record(
            access, "webhook.updated", endpoint=name, changed=shown, secret_rotated=bool(key)
        )
    return endpoint, key


async def delete_endpoint(access: Access, name: str) -> bool:
    """Delete the endpoint and its deliveries."""
    access.require_super_admin()
    endpoint = await _endpoint(name)
    await endpoint.delete()
    await record(access, "webhook.deleted", endpoint=name)
    return True


def list_endpoints(access: Access) -> QuerySet[WebhookEndpoint]:
    access.require_super_admin()
    return WebhookEndpoint.all().order_by("name")


async def list_deliveries(
    access: Access, endpoint: str | None, state: DeliveryState | None
) -> QuerySet[WebhookDelivery]:
    """Deliveries newest first, of one endpoint (by name) or all, in one state or any."""
    access.require_super_admin()
    rows = WebhookDelivery.all()
    if endpoint is not None:
        rows = rows.filter(endpoint_id=(await _endpoint(endpoint, "endpoint")).id)
    if state is not None:
        rows = rows.filter(state=state)
    return rows.select_related("endpoint").order_by("-id")


async def redeliver(access: Access, delivery_ids: Sequence[int]) -> list[WebhookDelivery]:
    """Send these deliveries again (DELIVERED or FAILED ones too), with a fresh set of
    tries, by the next delivery sweep; the receiver gets the same event id again."""
    access.require_super_admin()
    problem = limits.check_list(delivery_ids, "ids")
    if problem is not None:
        raise problem
    wanted = sorted(set(delivery_ids))
    found = await WebhookDelivery.filter(id__in=wanted).select_related("endpoint")
    missing = set(wanted) - {row.id for row in found}
    if missing:
        raise not_found(f"no webhook delivery with id {min(missing)}", "ids")
    await WebhookDelivery.filter(id__in=wanted).update(
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=clock.now(),
        claimed_at=None,
    )
    for row in found:
        await record(
            access,
            "webhook.redelivered",
            endpoint=row.endpoint.name,
            delivery_id=row.id,
            previous=row.state.value,
        )
    return await WebhookDelivery.filter(id__in=wanted).select_related("endpoint").order_by("id")


def _keep(errors: ErrorCollector, error: DomainError | None) -> None:
    if error is not None:
        errors.add(error)


async def _endpoint(name: str, field: str = "name") -> WebhookEndpoint:
    endpoint = await get_named(WebhookEndpoint, name, limits.NAME)
    if endpoint is None:
        raise not_found(f"no webhook endpoint named {name[: limits.NAME]}", field)
    return endpoint


def _check_secret(secret: str | None) -> DomainError | None:
    if secret is None:
        return None
    if not MIN_SECRET <= len(secret) <= limits.WEBHOOK_SECRET:
        return validation(
            f"secret must be {MIN_SECRET}-{limits.WEBHOOK_SECRET} characters long", "secret"
        )
    return None


async def _check(fields: EndpointFields, errors: ErrorCollector) -> None:
    """Every field's bounds first, then what needs a lookup (names, the URL's host)."""
    if fields.url is not None:
        _keep(errors, limits.check_text(fields.url, "url", limits.URL))
    # A type is `dev.hoist.` and an action (at most 64 characters, as the audit log's).
    _keep(errors, limits.check_list(fields.event_types, "eventTypes", item_len=100))
    _keep(errors, limits.check_list(fields.applications, "applications", item_len=limits.NAME))
    if errors.errors:
        return
    for i, type_ in enumerate(fields.event_types or []):
        if type_ not in kinds.TYPES:
            errors.add(
                validation(f"no event type {type_!r} (see webhookEventTypes)", f"eventTypes[{i}]")
            )
    names = list(fields.applications or [])
    if names:
        known = set(
            await column(Application.filter(name__in=names).values_list("name", flat=True), str)
        )
        for i, name in enumerate(names):
            if name not in known:
                errors.add(not_found(f"no application named {name}", f"applications[{i}]"))
    if fields.url is not None:
        problem = addresses.url_problem(fields.url)
        if problem is None:
            problem = await addresses.address_problem(
                fields.url, get_settings().webhook_allow_private
            )
        if problem is not None:
            errors.add(validation(f"url {problem}", "url"))
