"""Queries of promotion policies and their bindings."""

from __future__ import annotations

from app.catalog.models import CdPipeline
from app.policies.models import PolicyBinding, PromotionPolicy


async def pairs_of_policy(policy_id: int) -> list[tuple[int, int]]:
    """(application id, environment id) of every pair the policy governs."""
    rows = await PolicyBinding.filter(policy_id=policy_id).values_list(
        "application_id", "environment_id"
    )
    return [(a, e) for a, e in rows]


async def pairs_with_pipeline(app_ids: list[int], env_ids: list[int]) -> set[tuple[int, int]]:
    """Which (application, environment) pairs among these ids have a CD pipeline."""
    if not app_ids or not env_ids:
        return set()
    rows = await CdPipeline.filter(
        application_id__in=app_ids, environment_id__in=env_ids
    ).values_list("application_id", "environment_id")
    return {(a, e) for a, e in rows}


async def policy_of_pair(application_id: int, environment_id: int) -> PromotionPolicy | None:
    """The policy that governs (application, environment) now, if any."""
    binding = await PolicyBinding.get_or_none(
        application_id=application_id, environment_id=environment_id
    ).select_related("policy")
    return binding.policy if binding else None
