"""What policy changes do to open requests (SPEC §3), in the caller's transaction."""

from __future__ import annotations

from app.accounts.access import Access
from app.policies.models import PromotionPolicy
from app.policies.programs import policy_program
from app.promotions import repository, transitions
from app.promotions.checks import image_variables
from app.promotions.models import PromotionRequest, PromotionStatus


async def pairs_lost_policy(access: Access, pairs: list[tuple[int, int]], reason: str) -> None:
    """The awaiting requests of these (application id, environment id) pairs turn STALE."""
    for application_id, environment_id in pairs:
        ids = await PromotionRequest.filter(
            application_id=application_id, target_environment_id=environment_id,
            status=PromotionStatus.AWAITING_APPROVAL,
        ).values_list("id", flat=True)
        for request_id in ids:
            await transitions.mark_stale(access, request_id, reason)


async def policy_updated(access: Access, policy: PromotionPolicy) -> None:
    """Awaiting requests of the policy: no longer eligible → STALE; quorum now met → PROMOTING."""
    program = policy_program(policy)
    for request in await repository.awaiting_of_policy(policy.id):
        evaluation = program.evaluate(image_variables(request.image))
        if not evaluation.eligible:
            await transitions.mark_stale(
                access, request.id,
                f"policy {policy.name} version {policy.version}: {evaluation.reason}",
            )
            continue
        # The request now runs under the new version: its approval count follows it.
        await PromotionRequest.filter(id=request.id).update(
            policy_name=policy.name, policy_version=policy.version,
            required_approvals=policy.approver_count,
        )
        if len(await repository.approver_ids(request.id)) >= policy.approver_count:
            await transitions.start_promoting(access, request.id)
