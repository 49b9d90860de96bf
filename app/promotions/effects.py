"""What policy changes do to open requests (SPEC §3), in the caller's transaction."""

from __future__ import annotations

from app.accounts.access import Access
from app.promotions import transitions
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
