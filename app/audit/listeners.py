"""The audit log hears the promotion and policy events: one entry per event, as it happens.

Registered first in app.events.LISTENER_MODULES, so an event's own entry precedes the
entries its consequences write (a request's STALE after the policy change that caused it).
"""

from __future__ import annotations

from app.audit.service import record
from app.events import (
    PairPolicyChanged,
    PolicyChanged,
    PolicyCreated,
    PolicyDeleted,
    PromotionRequested,
    RequestApproved,
    RequestStatusChanged,
    listener,
)


@listener(PolicyCreated)
async def policy_created(event: PolicyCreated) -> None:
    await record(event.actor, "policy.created", policy=event.policy, version=1, **event.fields)


@listener(PolicyChanged)
async def policy_changed(event: PolicyChanged) -> None:
    await record(
        event.actor,
        "policy.updated",
        policy=event.policy,
        previous_name=event.previous_name,
        version=event.version,
        **event.fields,
    )


@listener(PolicyDeleted)
async def policy_deleted(event: PolicyDeleted) -> None:
    await record(event.actor, "policy.deleted", policy=event.policy)


@listener(PairPolicyChanged)
async def pair_policy_changed(event: PairPolicyChanged) -> None:
    await record(
        event.actor,
        "policy.applied" if event.policy else "policy.unapplied",
        application=event.application,
        environment=event.environment,
        policy=event.policy,
    )


@listener(PromotionRequested)
async def promotion_requested(event: PromotionRequested) -> None:
    await record(
        event.actor,
        "promotion.requested",
        application=event.application,
        environment=event.environment,
        request_id=event.request_id,
        image_id=event.image_id,
        source=event.source,
        policy=event.policy,
        policy_version=event.policy_version,
        status=event.status,
        break_glass=event.break_glass,
        # A WARN policy's failed clauses (issue 20); absent when there were none.
        **({"warnings": list(event.warnings)} if event.warnings else {}),
    )


@listener(RequestApproved)
async def request_approved(event: RequestApproved) -> None:
    await record(
        event.actor,
        "promotion.approved",
        application=event.application,
        environment=event.environment,
        request_id=event.request_id,
        comment=event.comment,
    )


@listener(RequestStatusChanged)
async def request_status_changed(event: RequestStatusChanged) -> None:
    if event.previous is None:
        return  # a new request: PromotionRequested has its entry
    await record(
        event.actor,
        f"promotion.{event.status.lower()}",
        application=event.application,
        environment=event.environment,
        request_id=event.request_id,
        previous=event.previous,
        reason=event.reason,
    )
