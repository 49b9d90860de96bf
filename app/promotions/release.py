"""The release sweep: QUEUED requests whose promotion window opened are promoted, in
request order (issue 16)."""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.expressions import Q

from app.accounts.access import SYSTEM
from app.outbox.registry import each_due
from app.promotions import service, transitions
from app.promotions.models import PromotionRequest, PromotionStatus
from app.windows import service as windows


async def release_due() -> int:
    """QUEUED → PROMOTING → PROMOTED for every queued request whose pair's window is open
    now (by app.clock), oldest request first; how many this run released.

    Which pairs are open is the calendar's answer (app/windows/calendar.py), read once
    for the queued requests' pairs; the requests of the open ones are then swept like any
    other. Each release is its own transaction and conditional on the status
    (transitions.move), so sweeps running at once in two processes promote each request
    once: the loser's UPDATE changes nothing and publishes nothing. The promotion is
    completed right there, not left to the promote job (which is written too, and then
    finds nothing to do), so requests reach PROMOTED in the order they were made.
    """
    queued = PromotionRequest.filter(status=PromotionStatus.QUEUED)
    pairs = await queued.distinct().values_list("application_id", "target_environment_id")
    if not pairs:
        return 0
    states = await windows.states_of_pairs([(a, e) for a, e in pairs])
    opened = [
        Q(application_id=a, target_environment_id=e) for (a, e), s in states.items() if s.open
    ]
    if not opened:
        return 0

    async def release(request_id: int) -> int:
        if not await transitions.release(SYSTEM, request_id):
            return 0
        await service.complete_promotion(request_id)
        return 1

    return await each_due(queued.filter(reduce(or_, opened)).order_by("id"), release)
