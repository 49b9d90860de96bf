"""What policy changes do to open requests (SPEC §3), in the caller's transaction."""

from __future__ import annotations

from app import cel, clock
from app.accounts.access import Access
from app.db import column
from app.policies.models import PromotionPolicy
from app.policies.programs import blocks, policy_program
from app.promotions import approval, gates, repository, transitions
from app.promotions.models import PromotionRequest, PromotionStatus
from app.supplychain.variables import images_variables


async def pairs_lost_policy(access: Access, pairs: list[tuple[int, int]], reason: str) -> None:
    """The awaiting requests of these (application id, environment id) pairs turn STALE."""
    for application_id, environment_id in pairs:
        ids = await column(
            PromotionRequest.filter(
                application_id=application_id,
                target_environment_id=environment_id,
                status=PromotionStatus.AWAITING_APPROVAL,
            ).values_list("id", flat=True),
            int,
        )
        for request_id in ids:
            await transitions.mark_stale(access, request_id, reason)


async def policy_updated(access: Access, policy: PromotionPolicy) -> None:
    """Awaiting requests of the policy: no longer eligible → STALE; quorum now met → PROMOTING."""
    program = policy_program(policy)
    requests = await repository.awaiting_of_policy(policy.id)
    # One batch off the event loop for all of them (SPEC §3: bounded, never on the loop).
    variables = await images_variables([request.image for request in requests], program.names)
    evaluations = await cel.evaluate_many([(program, v) for v in variables])
    for request, evaluation in zip(requests, evaluations, strict=True):
        # A WARN policy's failing conditions block nothing, now either (issue 20).
        if blocks(policy, evaluation):
            await transitions.mark_stale(
                access,
                request.id,
                f"policy {policy.name} version {policy.version}: {evaluation.reason}",
            )
            continue
        # The request now runs under the new version: its approval count follows it. Only
        # while it still awaits approval: the list above was read before a concurrent
        # decision (approve, reject, cancel) may have moved it on, and a request that left
        # AWAITING_APPROVAL keeps the count and version it left under (SPEC §3).
        breaks_glass = request.break_glass_reason is not None
        followed = await PromotionRequest.filter(
            id=request.id, status=PromotionStatus.AWAITING_APPROVAL
        ).update(
            policy_name=policy.name,
            policy_version=policy.version,
            required_approvals=gates.required_approvals(policy, breaks_glass),
        )
        if not followed:
            continue
        approvals = await repository.approvals_of(request.id)
        counting = approval.counting_approvers(approvals, policy, clock.now())
        if len(counting) >= gates.required_approvals(policy, breaks_glass):
            await transitions.start_promoting(access, request.id)
