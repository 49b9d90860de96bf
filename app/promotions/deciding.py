"""Would a decision be taken right now: `approvePromotionRequests`' checks, writing nothing.

A page that offers a decision before it is made (the email link's page, which a mail
scanner may open) must say whether it would work, and why not, without the side effects
deciding has (a request whose policy stopped governing turns STALE when someone decides
on it). The decision itself is always `service.approve` / `service.reject`, which checks
everything again at that moment; this only reads, in the same order, through the same
rule functions (app/promotions/approval.py).
"""

from __future__ import annotations

from app import clock
from app.accounts.access import Access
from app.catalog.builders import builders_of
from app.promotions import approval, repository
from app.promotions.models import DecisionKind, PromotionRequest, PromotionStatus
from app.promotions.outcomes import DecisionOutcome


async def decision_blocker(
    access: Access, request_id: int, kind: DecisionKind
) -> tuple[DecisionOutcome, str] | None:
    """(outcome, message) that would stop the caller's decision on the request now, or None
    when `approve` / `reject` would take it.

    Unlike deciding, the role is checked before visibility: the caller is named by a
    signed link to this very request, so "you no longer hold the role" is the news.
    """
    request = await PromotionRequest.get_or_none(id=request_id).select_related(
        "application", "target_environment", "image"
    )
    if request is None:
        return DecisionOutcome.NOT_FOUND, f"no promotion request with id {request_id}"
    app, env = request.application.name, request.target_environment.name
    if request.status != PromotionStatus.AWAITING_APPROVAL:
        return DecisionOutcome.NOT_PENDING, f"the request is {request.status.value}"
    if forbidden := approval.role_blocker(access, app, env):
        return DecisionOutcome(forbidden[0]), forbidden[1]
    policy = await approval.governing_policy(request)
    if policy is None:
        return (
            DecisionOutcome.STALE,
            f"policy {request.policy_name} no longer applies to {app}/{env}",
        )
    counting = set()
    if kind == DecisionKind.APPROVE:
        approvals = await repository.approvals_of(request.id)
        counting = approval.counting_approvers(approvals, policy, clock.now())
    blocker = approval.approval_blocker(
        access,
        application=app,
        environment=env,
        requested_by_id=request.requested_by_id,
        builder_ids=builders_of(request.image),
        policy=policy,
        approver_ids=counting,
    )
    if blocker is not None:
        return DecisionOutcome(blocker[0]), blocker[1]
    return None
