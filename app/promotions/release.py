"""The release sweep: QUEUED requests whose promotion window opened are promoted, in
request order (issue 16)."""

from __future__ import annotations

from app.accounts.access import SYSTEM
from app.db import unit_of_work
from app.promotions import service, transitions
from app.promotions.models import PromotionRequest, PromotionStatus
from app.windows import service as windows

# Requests one sweep releases at most; the next sweep takes the rest (oldest first).
BATCH = 200


async def release_due() -> int:
    """QUEUED → PROMOTING → PROMOTED for every queued request whose pair's window is open
    now (by app.clock), oldest request first; how many this run released.

    Each release is its own transaction and conditional on the status (transitions.move),
    so sweeps running at once in two processes promote each request once: the loser's
    UPDATE changes nothing and publishes nothing. The promotion is completed right there,
    not left to the promote job (which is written too, and then finds nothing to do), so
    requests reach PROMOTED in the order they were made.
    """
    queued = (
        await PromotionRequest.filter(status=PromotionStatus.QUEUED)
        .order_by("id")
        .limit(BATCH)
        .only("id", "application_id", "target_environment_id")
    )
    if not queued:
        return 0
    states = await windows.states_of_pairs(
        list({(r.application_id, r.target_environment_id) for r in queued})
    )
    released = 0
    for request in queued:
        if not states[(request.application_id, request.target_environment_id)].open:
            continue
        async with unit_of_work():
            if await transitions.release(SYSTEM, request.id):
                released += 1
                await service.complete_promotion(request.id)
    return released
