"""Queries of promotion policies and their bindings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from tortoise.expressions import F

from app.catalog.models import CdPipeline
from app.policies.models import PolicyBinding, PromotionPolicy


async def lock_policy(name: str) -> PromotionPolicy | None:
    """The policy named `name`, read after taking its row's write lock for the transaction.

    The lock is a write that changes nothing (`SET version = version`) rather than
    `SELECT ... FOR UPDATE`, which SQLite drops: on Postgres it holds the row until commit,
    and a caller waiting behind it re-checks the name once the holder commits; on SQLite
    it takes the database's write lock. Either way the read that follows sees the content
    the previous writer committed, and nobody else writes the row until this
    transaction ends.
    """
    if not await PromotionPolicy.filter(name=name).update(version=F("version")):
        return None
    return await PromotionPolicy.get_or_none(name=name)


async def compare_and_set(policy_id: int, version: int, values: dict[str, object]) -> bool:
    """Write `values` as version `version + 1` if the row is still at `version`."""
    written = await PromotionPolicy.filter(id=policy_id, version=version).update(
        **values, version=version + 1, updated_at=datetime.now(UTC)
    )
    return bool(written)


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


async def policies_of_pairs(
    pairs: Sequence[tuple[int, int]],
) -> dict[tuple[int, int], PromotionPolicy]:
    """Batch form of `policy_of_pair`: the policy of each pair that has one, in one query
    (a superset of the pairs is read, then matched pair by pair)."""
    if not pairs:
        return {}
    wanted = set(pairs)
    rows = await PolicyBinding.filter(
        application_id__in=sorted({a for a, _ in pairs}),
        environment_id__in=sorted({e for _, e in pairs}),
    ).select_related("policy")
    return {
        (b.application_id, b.environment_id): b.policy
        for b in rows
        if (b.application_id, b.environment_id) in wanted
    }


async def policies_by_name() -> list[PromotionPolicy]:
    """Every policy, by name."""
    return await PromotionPolicy.all().order_by("name")


async def policy_named(name: str) -> PromotionPolicy | None:
    return await PromotionPolicy.get_or_none(name=name)


async def bindings_matching(
    application: str | None, environment: str | None, policy: str | None
) -> list[PolicyBinding]:
    """Bindings, oldest first, of the named application, environment and policy (None: any)."""
    rows = PolicyBinding.all()
    if application is not None:
        rows = rows.filter(application__name=application)
    if environment is not None:
        rows = rows.filter(environment__name=environment)
    if policy is not None:
        rows = rows.filter(policy__name=policy)
    return await rows.order_by("id")


async def policies_by_ids(ids: Sequence[int]) -> list[PromotionPolicy]:
    return await PromotionPolicy.filter(id__in=list(ids))


async def bindings_of_policies(policy_ids: Sequence[int]) -> list[PolicyBinding]:
    """The policies' bindings, oldest first."""
    return await PolicyBinding.filter(policy_id__in=list(policy_ids)).order_by("id")


async def bindings_of_pairs(pairs: Sequence[tuple[int, int]]) -> list[PolicyBinding]:
    """Bindings among these (application id, environment id) pairs (a superset query,
    which the caller matches pair by pair)."""
    return await PolicyBinding.filter(
        application_id__in=[a for a, _ in pairs], environment_id__in=[e for _, e in pairs]
    )
