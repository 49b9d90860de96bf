"""GraphQL doors of the webhooks: super-admins register endpoints, read their deliveries,
and redeliver."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry
from strawberry import relay

from app import limits
from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, parse_id, unset_to_none
from app.graphql.nodes import super_admins, visible_nodes
from app.graphql.pagination import After, Connection, First, paginate
from app.webhooks import kinds, models, repository, service


@strawberry.enum(description="Where one delivery of an event to an endpoint stands.")
class WebhookDeliveryState(Enum):
    PENDING = strawberry.enum_value(
        models.DeliveryState.PENDING,
        description="Not delivered yet; tried again from nextAttemptAt.",
    )
    DELIVERED = strawberry.enum_value(
        models.DeliveryState.DELIVERED, description="The endpoint answered 2xx."
    )
    FAILED = strawberry.enum_value(
        models.DeliveryState.FAILED,
        description="Every try failed (HOIST_WEBHOOK_MAX_ATTEMPTS): "
        "redeliverWebhooks sends it again.",
    )


@strawberry.enum(description="How an endpoint's events are written.")
class WebhookFormat(Enum):
    CLOUDEVENTS = strawberry.enum_value(
        models.WebhookFormat.CLOUDEVENTS,
        description="A CloudEvents 1.0 JSON body, signed (X-Hoist-Signature): for programs.",
    )
    SLACK = strawberry.enum_value(
        models.WebhookFormat.SLACK,
        description="A Slack incoming webhook's message (Block Kit), a button to the request.",
    )
    TEAMS = strawberry.enum_value(
        models.WebhookFormat.TEAMS,
        description="A Microsoft Teams incoming webhook's message (an Adaptive Card 1.5).",
    )


@strawberry.type(description="Where Hoist POSTs its events, as signed CloudEvents (super-admins).")
class WebhookEndpoint(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its name, unique.")
    url: str = strawberry.field(description="Where the events are POSTed.")
    format: WebhookFormat = strawberry.field(description="How they are written.")
    event_types: list[str] = strawberry.field(
        description="The CloudEvents types it gets (see webhookEventTypes); empty: every type."
    )
    applications: list[str] = strawberry.field(
        description="The applications whose events it gets; empty: every application."
    )
    active: bool = strawberry.field(
        description="Whether events go out to it; false after too many failures in a row."
    )
    consecutive_failures: int = strawberry.field(description="Failed tries since the last success.")
    disabled_reason: str | None = strawberry.field(
        description="Why Hoist switched it off; null when a super-admin did, or it is on."
    )
    created_at: datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def of(cls, row: models.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=row.id,
            name=row.name,
            url=row.url,
            format=WebhookFormat(row.format),
            event_types=list(row.event_types),
            applications=list(row.applications),
            active=row.active,
            consecutive_failures=row.consecutive_failures,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
        )

    resolve_nodes = visible_nodes(repository.endpoints_by_ids, super_admins)


@strawberry.type(description="One event for one endpoint, and how its tries went.")
class WebhookDelivery(relay.Node):
    id: relay.NodeID[int]
    endpoint: str = strawberry.field(description="The endpoint's name.")
    event_id: str = strawberry.field(
        description="The CloudEvent's id (the audit event's id; also X-Hoist-Delivery)."
    )
    event_type: str = strawberry.field(description="The CloudEvent's type.")
    body: str = strawberry.field(description="The exact JSON body sent (signed afresh each try).")
    state: WebhookDeliveryState = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Tries so far (since the last redelivery).")
    next_attempt_at: datetime | None = strawberry.field(
        description="A PENDING delivery is tried again from then on."
    )
    last_status: int | None = strawberry.field(description="The last answer's HTTP status.")
    last_response: str | None = strawberry.field(
        description="The start (500 characters) of the last answer's body."
    )
    last_error: str | None = strawberry.field(
        description="Why the last try failed, in Hoist's words."
    )
    created_at: datetime = strawberry.field(description="When the event was handed on to it.")
    delivered_at: datetime | None = strawberry.field(description="When the endpoint took it.")

    @classmethod
    def of(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        pending = row.state == models.DeliveryState.PENDING
        return cls(
            id=row.id,
            endpoint=row.endpoint.name,
            event_id=row.event_id,
            event_type=row.event_type,
            body=row.body,
            state=WebhookDeliveryState(row.state),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if pending else None,
            last_status=row.last_status,
            last_response=row.last_response,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )

    resolve_nodes = visible_nodes(repository.deliveries_by_ids, super_admins)


_URL = (
    "Where to POST (http or https); loopback, private and link-local hosts are refused "
    f"unless HOIST_WEBHOOK_ALLOW_PRIVATE=true. {limits.text_note(limits.URL)}"
)
_TYPES = f"CloudEvents types (see webhookEventTypes); empty: all. {limits.list_note()}"
_APPS = f"Application names; empty: all. {limits.list_note(item_len=limits.NAME)}"


@strawberry.input(description="A new webhook endpoint.")
class WebhookEndpointInput:
    name: str = strawberry.field(description="3-50 characters: a-z, 0-9, '-'.")
    url: str = strawberry.field(description=_URL)
    format: WebhookFormat = strawberry.field(
        default=WebhookFormat.CLOUDEVENTS, description="How the events are written."
    )
    event_types: list[str] | None = strawberry.field(default=None, description=_TYPES)
    applications: list[str] | None = strawberry.field(default=None, description=_APPS)
    secret: str | None = strawberry.field(
        default=UNSET,
        description=f"The HMAC key, {service.MIN_SECRET}-{limits.WEBHOOK_SECRET} characters; "
        "null: Hoist makes one (returned once, in the payload).",
    )


@strawberry.input(description="Only the fields you set change.")
class WebhookEndpointPatch:
    url: str | None = strawberry.field(default=UNSET, description=_URL)
    format: WebhookFormat | None = strawberry.field(
        default=UNSET, description="How the events are written (from the next event on)."
    )
    event_types: list[str] | None = strawberry.field(default=UNSET, description=_TYPES)
    applications: list[str] | None = strawberry.field(default=UNSET, description=_APPS)
    active: bool | None = strawberry.field(
        default=UNSET,
        description="Switch it off or on; on again clears its failures and its pending "
        "deliveries go out.",
    )
    rotate_secret: bool | None = strawberry.field(
        default=UNSET, description="true: a new secret, returned once in the payload."
    )


_ENDPOINT_ERRORS = (ErrorCode.FORBIDDEN, ErrorCode.VALIDATION, ErrorCode.NOT_FOUND)


@strawberry.type(description="What createWebhookEndpoint or updateWebhookEndpoint did.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(
        default=None, description="The endpoint; null when refused."
    )
    secret: str | None = strawberry.field(
        default=None,
        description="The new secret, shown only here (on create, and on rotateSecret).",
    )
    errors: list[UserError] = error_list(
        "Why nothing was saved.", *_ENDPOINT_ERRORS, ErrorCode.CONFLICT
    )


@strawberry.type(description="What deleteWebhookEndpoint did.")
class DeleteWebhookEndpointPayload:
    deleted: bool = strawberry.field(default=False, description="Whether it was deleted.")
    errors: list[UserError] = error_list(
        "Why it was not deleted.", ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND
    )


@strawberry.type(description="What redeliverWebhooks did.")
class RedeliverWebhooksPayload:
    deliveries: list[WebhookDelivery] = strawberry.field(
        default_factory=list, description="The deliveries, PENDING again."
    )
    errors: list[UserError] = error_list(
        "Why none was redelivered.", ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.VALIDATION
    )


_NAME = Annotated[str, strawberry.argument(description="The endpoint's name.")]


def _format(value: WebhookFormat | None) -> models.WebhookFormat | None:
    # strawberry.enum unwraps enum_value(): at run time .value is the model's format.
    return cast(models.WebhookFormat, value.value) if value is not None else None


@strawberry.type
class Query:
    @strawberry.field(description="Every CloudEvents type Hoist sends to webhooks.")
    def webhook_event_types(self) -> list[str]:
        return list(kinds.TYPES)

    @strawberry.field(description="The webhook endpoints, by name (super-admins only).")
    async def webhook_endpoints(
        self, info: Info, first: First = 20, after: After = UNSET
    ) -> Connection[WebhookEndpoint]:
        rows = service.list_endpoints(await info.context.access())
        return await paginate(rows, first, unset_to_none(after), WebhookEndpoint.of)

    @strawberry.field(description="Webhook deliveries newest first (super-admins only).")
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint: Annotated[
            str | None, strawberry.argument(description="Only this endpoint's (by name).")
        ] = None,
        state: Annotated[
            WebhookDeliveryState | None,
            strawberry.argument(description="Only deliveries in this state; null: any."),
        ] = None,
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[WebhookDelivery]:
        rows = await service.list_deliveries(
            await info.context.access(),
            endpoint,
            # strawberry.enum unwraps enum_value(): at run time .value is the model's state.
            cast(models.DeliveryState, state.value) if state else None,
        )
        return await paginate(rows, first, unset_to_none(after), WebhookDelivery.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register a webhook endpoint (super-admins only).")
    async def create_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[WebhookEndpointInput, strawberry.argument(description="The endpoint.")],
    ) -> WebhookEndpointPayload | None:
        access = await info.context.access()

        async def run() -> WebhookEndpointPayload:
            fields = service.EndpointFields(
                url=input.url,
                format=_format(input.format),
                event_types=input.event_types,
                applications=input.applications,
            )
            endpoint, secret = await service.create_endpoint(
                access, input.name, fields, unset_to_none(input.secret)
            )
            return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(endpoint), secret=secret)

        return await mutate(run, lambda errors: WebhookEndpointPayload(errors=errors))

    @strawberry.mutation(description="Change a webhook endpoint (super-admins only).")
    async def update_webhook_endpoint(
        self,
        info: Info,
        name: _NAME,
        input: Annotated[WebhookEndpointPatch, strawberry.argument(description="The changes.")],
    ) -> WebhookEndpointPayload | None:
        access = await info.context.access()

        async def run() -> WebhookEndpointPayload:
            fields = service.EndpointFields(
                url=unset_to_none(input.url),
                format=_format(unset_to_none(input.format)),
                event_types=unset_to_none(input.event_types),
                applications=unset_to_none(input.applications),
                active=unset_to_none(input.active),
            )
            endpoint, secret = await service.update_endpoint(
                access, name, fields, bool(unset_to_none(input.rotate_secret))
            )
            return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(endpoint), secret=secret)

        return await mutate(run, lambda errors: WebhookEndpointPayload(errors=errors))

    @strawberry.mutation(description="Delete a webhook endpoint and its deliveries.")
    async def delete_webhook_endpoint(
        self, info: Info, name: _NAME
    ) -> DeleteWebhookEndpointPayload | None:
        access = await info.context.access()

        async def run() -> DeleteWebhookEndpointPayload:
            return DeleteWebhookEndpointPayload(deleted=await service.delete_endpoint(access, name))

        return await mutate(run, lambda errors: DeleteWebhookEndpointPayload(errors=errors))

    @strawberry.mutation(
        description="Send deliveries again with a fresh set of tries (super-admins only); "
        f"the receiver gets the same event id. {limits.list_note()}"
    )
    async def redeliver_webhooks(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f"Delivery ids. {limits.list_note()}"),
        ],
    ) -> RedeliverWebhooksPayload | None:
        access = await info.context.access()

        async def run() -> RedeliverWebhooksPayload:
            limits.refuse(limits.check_list(ids, "ids"))
            rows = await service.redeliver(
                access, [parse_id(i, f"ids[{n}]", "WebhookDelivery") for n, i in enumerate(ids)]
            )
            return RedeliverWebhooksPayload(deliveries=[WebhookDelivery.of(r) for r in rows])

        return await mutate(run, lambda errors: RedeliverWebhooksPayload(errors=errors))
