"""Promotions hears policy changes: the open requests they govern are re-evaluated (SPEC §3)."""

from __future__ import annotations

from app.events import PairsLostPolicy, PolicyChanged, listener
from app.policies.models import PromotionPolicy
from app.promotions import effects


@listener(PolicyChanged)
async def policy_changed(event: PolicyChanged) -> None:
    policy = await PromotionPolicy.get(id=event.policy_id)
    await effects.policy_updated(event.actor, policy)


@listener(PairsLostPolicy)
async def pairs_lost_policy(event: PairsLostPolicy) -> None:
    await effects.pairs_lost_policy(event.actor, list(event.pairs), event.reason)
