"""Racing callers: the database keeps one open request per pair and promotes exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.outbox.models import OutboxJob
from app.promotions.models import PromotionDecision, PromotionRequest
from tests.promotions.world import World, drain, request_row


async def test_twenty_approvers_at_once_promote_exactly_once(world: World) -> None:
    await world.policy("careful", "prod", approver_count=3)
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    request = request_row(r)
    approvers = [
        await world.user(f"ap{i}", (Role.ARTIFACT_PROMOTER, "shop", "prod")) for i in range(20)
    ]
    results = await asyncio.gather(*(world.decide(t, [request]) for t in approvers))
    outcomes = Counter(res[0]["outcome"] for res in results)
    assert outcomes["PROMOTING"] == 1, outcomes
    assert outcomes["APPROVED"] == 2, outcomes
    assert outcomes["NOT_PENDING"] == 17, outcomes
    assert await PromotionDecision.filter(request_id=request).count() == 3
    assert await OutboxJob.filter(task="promotions.promote").count() == 1
    await drain()
    assert await world.request_status(request) == "PROMOTED"
    assert await AuditEvent.filter(action="promotion.promoted").count() == 1


async def test_twenty_promotions_of_one_image_make_one_request(world: World) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    results = await asyncio.gather(
        *(world.promote(world.tokens["dev"], image, ["prod"]) for _ in range(20))
    )
    outcomes = Counter(res[0]["outcome"] for res in results)
    assert outcomes == {"AWAITING_APPROVAL": 1, "ALREADY_REQUESTED": 19}, outcomes
    assert await PromotionRequest.filter(image_id=image).count() == 1


async def test_one_user_approving_twice_at_once_counts_once(world: World) -> None:
    await world.policy("careful", "prod", approver_count=2)
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    request = request_row(r)
    results = await asyncio.gather(
        *(world.decide(world.tokens["approver"], [request]) for _ in range(5))
    )
    outcomes = Counter(res[0]["outcome"] for res in results)
    assert outcomes == {"APPROVED": 1, "ALREADY_APPROVED": 4}, outcomes
    assert await PromotionDecision.filter(request_id=request).count() == 1
