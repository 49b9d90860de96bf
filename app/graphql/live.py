"""Live subscriptions: committed changes (app/live.py) as the caller may see them.

Each subscription filters the changes by its arguments and by the caller's Access (the
applications they may read) before anything is queued, then reads the object afresh
through the type's own `resolve_nodes`, which applies the same visibility rule as the
queries. Every HOIST_LIVE_RECHECK_SECONDS it checks the token again and re-reads the
caller's roles: a revoked or expired token ends it with UNAUTHENTICATED. Served over
graphql-transport-ws and GraphQL over SSE (app/graphql/view.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Annotated

import strawberry

from app import ids, live
from app.accounts.access import Access
from app.catalog.types import load_environment
from app.deployments import repository as deployments
from app.deployments.types import Deployment
from app.graphql.context import Context, Info
from app.graphql.errors import UNSET, unset_to_none
from app.graphql.loaders import Loaders
from app.promotions import repository as promotions
from app.promotions.types import PromotionRequest
from app.settings import get_settings

_ACTION = "What happened, as the audit log names it (promotion.approved, deployment.failed, ...)."
_EVENT_ID = "The audit log entry that records it (an AuditEvent id)."


@strawberry.type(description="A promotion request changed state, or was approved or rejected.")
class PromotionRequestChange:
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID)
    action: str = strawberry.field(description=_ACTION)
    request: PromotionRequest = strawberry.field(description="The request as it is now.")


# The action of a pendingApprovalsChanged event found when the caller's roles were re-read.
RESYNCED = "inbox.resynced"


@strawberry.type(description="A request entered or left your approval inbox (pendingApprovals).")
class PendingApprovalsChange:
    event_id: strawberry.ID | None = strawberry.field(
        description=_EVENT_ID + " Null when your roles changed (they are re-read every "
        "HOIST_LIVE_RECHECK_SECONDS): then `action` is inbox.resynced."
    )
    action: str = strawberry.field(description=_ACTION)
    added: bool = strawberry.field(
        description="True: you can approve it now (it entered the inbox); false: it left it."
    )
    request: PromotionRequest = strawberry.field(description="The request as it is now.")


@strawberry.type(description="A deployment's status changed, or one of its stages reported.")
class DeploymentChange:
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID)
    action: str = strawberry.field(description=_ACTION)
    deployment: Deployment = strawberry.field(description="The deployment as it is now.")


class _Caller:
    """The subscriber's rights, renewed at each re-check (the hub's filter reads them)."""

    def __init__(self, access: Access) -> None:
        self.access = access

    def can_view(self, change: live.Change) -> bool:
        return change.application is not None and self.access.can_view(change.application)


async def _changes(
    context: Context, wants: Callable[[live.Change], bool], caller: _Caller | None = None
) -> AsyncGenerator[live.Change | None, None]:
    """The committed changes `wants` keeps that the caller may see, until the token fails
    a re-check (UNAUTHENTICATED), the subscriber falls behind (SUBSCRIBER_TOO_SLOW) or
    the process loses Redis (LIVE_FEED_LOST); None after each re-check (the caller's
    roles were read again)."""
    recheck = get_settings().live_recheck_seconds
    caller = caller or _Caller(await context.reauthenticate())
    loop = asyncio.get_running_loop()
    async with live.HUB.subscription(lambda c: wants(c) and caller.can_view(c)) as subscriber:
        due = loop.time() + recheck
        while True:
            change = await subscriber.next(max(0.0, due - loop.time()))
            if loop.time() >= due:
                caller.access = await context.reauthenticate()
                due = loop.time() + recheck
                yield None
                if change is not None and not caller.can_view(change):
                    continue
            if change is not None:
                # One context serves a WebSocket's every operation: fresh loaders per
                # event, so no field answers from rows read for an earlier one.
                context.loaders = Loaders()
                yield change


def _matches(value: str | None, wanted: str | None) -> bool:
    return wanted is None or value == wanted


async def _request(info: Info, request_id: int) -> PromotionRequest | None:
    found = await PromotionRequest.resolve_nodes(info=info, node_ids=[str(request_id)])
    return found[0] if found else None


async def _deployment(info: Info, deployment_id: int) -> Deployment | None:
    found = await Deployment.resolve_nodes(info=info, node_ids=[str(deployment_id)])
    return found[0] if found else None


async def _inbox(
    access: Access, application: str | None = None, environment: str | None = None
) -> set[int]:
    """Ids of the requests the caller could approve now (pendingApprovals' own query), of
    one application and target environment when they are given (a change's pair)."""
    rows = await promotions.pending_requests(
        access,
        application=application,
        workflow=None,
        environment=environment,
        pending_with_me=True,
    )
    return {row.id for row in await rows}


def _event_id(change: live.Change) -> strawberry.ID:
    return strawberry.ID(ids.global_id("AuditEvent", change.event_id))


_APPLICATION = strawberry.argument(description="Only this application's (default: every one).")


@strawberry.type(
    description="Live changes, as they are committed; each needs an API token and shows only "
    "the applications you hold a role on. Over graphql-transport-ws or GraphQL over SSE."
)
class Subscription:
    @strawberry.subscription(
        description="Every state change of a promotion request, and every approval and "
        "rejection, with the request as it is after it."
    )
    async def promotion_request_changed(
        self,
        info: Info,
        application: Annotated[str | None, _APPLICATION] = UNSET,
        target_environment: Annotated[
            str | None,
            strawberry.argument(description="Only requests to promote to this environment."),
        ] = UNSET,
    ) -> AsyncGenerator[PromotionRequestChange, None]:
        app, target = unset_to_none(application), unset_to_none(target_environment)

        def wants(change: live.Change) -> bool:
            return (
                change.action.startswith("promotion.")
                and "request_id" in change.ids
                and _matches(change.application, app)
                and _matches(change.environment, target)
            )

        async for change in _changes(info.context, wants):
            if change is None:
                continue
            request = await _request(info, change.ids["request_id"])
            if request is not None:
                yield PromotionRequestChange(
                    event_id=_event_id(change), action=change.action, request=request
                )

    @strawberry.subscription(
        description="Your approval inbox (pendingApprovals) gained or lost a request: one "
        "you can approve now, or one you no longer can (decided, promoted, closed...)."
    )
    async def pending_approvals_changed(
        self, info: Info
    ) -> AsyncGenerator[PendingApprovalsChange, None]:
        caller = _Caller(await info.context.reauthenticate())
        inbox = await _inbox(caller.access)

        def wants(change: live.Change) -> bool:
            return change.action.startswith("promotion.") and "request_id" in change.ids

        async for change in _changes(info.context, wants, caller):
            if change is None:
                # Roles re-read: the inbox may have changed without a request's event (a
                # role granted or revoked); what entered or left it is told, eventId null.
                now = await _inbox(caller.access)
                for request_id in sorted(now ^ inbox):
                    request = await _request(info, request_id)
                    if request is not None:
                        yield PendingApprovalsChange(
                            event_id=None, action=RESYNCED, added=request_id in now, request=request
                        )
                inbox = now
                continue
            request_id = change.ids["request_id"]
            now_in = request_id in await _inbox(
                caller.access, change.application, change.environment
            )
            if now_in == (request_id in inbox):
                continue
            (inbox.add if now_in else inbox.discard)(request_id)
            request = await _request(info, request_id)
            if request is not None:
                yield PendingApprovalsChange(
                    event_id=_event_id(change), action=change.action, added=now_in, request=request
                )

    @strawberry.subscription(
        description="A deployment was made or changed status, or a stage result was reported "
        "for an image in an environment (told with the image's newest deployment there); "
        "with the deployment as it is after it."
    )
    async def deployment_changed(
        self,
        info: Info,
        application: Annotated[str | None, _APPLICATION] = UNSET,
        environment: Annotated[
            str | None, strawberry.argument(description="Only deployments to this environment.")
        ] = UNSET,
    ) -> AsyncGenerator[DeploymentChange, None]:
        app, env = unset_to_none(application), unset_to_none(environment)

        def wants(change: live.Change) -> bool:
            if not _matches(change.application, app):
                return False
            if change.action.startswith("deployment."):
                # Status changes name no environment: checked on the deployment below.
                return "deployment_id" in change.ids and (
                    change.environment is None or _matches(change.environment, env)
                )
            return change.action == "stage.reported" and _matches(change.environment, env)

        async for change in _changes(info.context, wants):
            if change is None:
                continue
            deployment_id = change.ids.get("deployment_id")
            if deployment_id is None and change.environment is not None:
                deployment_id = await deployments.latest_deployment_of_image(
                    change.ids.get("image_id", 0), change.environment
                )
            deployment = None if deployment_id is None else await _deployment(info, deployment_id)
            if deployment is None:
                continue
            environment_row = await load_environment(info, deployment.row.environment_id)
            if env is not None and environment_row.name != env:
                continue
            yield DeploymentChange(
                event_id=_event_id(change), action=change.action, deployment=deployment
            )
