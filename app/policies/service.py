"""Promotion policies: rules at save, versions, applying to (application, environment) pairs."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from tortoise.exceptions import IntegrityError

from app import cel, durations, limits
from app.accounts.access import Access
from app.catalog.models import Application, Environment
from app.catalog.service import check_condition
from app.errors import DomainError, ErrorCollector, conflict, not_found, validation
from app.events import (
    PairPolicyChanged,
    PairsLostPolicy,
    PolicyChanged,
    PolicyCreated,
    PolicyDeleted,
    publish,
)
from app.policies import repository
from app.policies.models import Enforcement, PolicyBinding, PromotionPolicy
from app.policies.pairs import Pair as Pair
from app.policies.pairs import bad_pair as _bad_pair
from app.validation import blank_to_none, check_count, check_name


@dataclass(frozen=True)
class PolicyFields:
    """A policy's editable fields, by their API names' meaning."""

    name: str
    description: str | None = None
    pass_condition: str | None = None
    fail_condition: str | None = None
    approver_count: int = 0
    allow_request_from_approve: bool = False
    allow_image_builder_from_approve: bool = False
    allow_approver_from_deploy: bool = False
    # A request's life (issue 16), in seconds; None: no limit, no reminders.
    request_timeout_seconds: int | None = None
    approval_max_age_seconds: int | None = None
    remind_after_seconds: int | None = None
    max_reminders: int = 2
    break_glass_approver_count: int = 1
    # Part of the version like every field here: changing it makes a new version.
    enforcement: Enforcement = Enforcement.ENFORCE


# Bounds of the duration fields, in seconds: (API name, shortest, longest). A reminder more
# often than every 5 minutes is spam; a limit past 90 days is no limit anyone waits for.
_DAY = 86_400
DURATIONS = {
    "request_timeout_seconds": ("requestTimeout", 300, 90 * _DAY),
    "approval_max_age_seconds": ("approvalMaxAge", 60, 90 * _DAY),
    "remind_after_seconds": ("remindAfter", 300, 30 * _DAY),
}
MAX_REMINDERS = 10


# API field names, used to name the field at fault in errors.
_API_NAMES = {
    "name": "name",
    "description": "description",
    "pass_condition": "passCondition",
    "fail_condition": "failCondition",
    "approver_count": "approverCount",
}


def _validate(values: PolicyFields) -> PolicyFields:
    """The fields as stored (blank conditions become absent), or every bad field listed."""
    values = replace(
        values,
        pass_condition=blank_to_none(values.pass_condition),
        fail_condition=blank_to_none(values.fail_condition),
    )
    errors = ErrorCollector()
    if error := check_name(values.name, "name", min_len=3):
        errors.add(error)
    if error := limits.check_text(values.description, "description", limits.DESCRIPTION):
        errors.add(error)
    for attr in ("pass_condition", "fail_condition"):
        if error := check_condition(getattr(values, attr), _API_NAMES[attr]):
            errors.add(error)
    if error := check_count(values.approver_count, "approverCount"):
        errors.add(error)
    for attr, (api_name, low, high) in DURATIONS.items():
        if error := durations.check(getattr(values, attr), api_name, low=low, high=high):
            errors.add(error)
    if error := check_count(values.max_reminders, "maxReminders", high=MAX_REMINDERS):
        errors.add(error)
    if error := check_count(values.break_glass_approver_count, "breakGlassApproverCount"):
        errors.add(error)
    errors.raise_if_any()
    return values


def condition_problem(expression: str) -> str | None:
    """What saving `expression` as a condition would answer; None when it may be saved."""
    # The length first: the parser never sees a text longer than any condition may be.
    if error := limits.check_text(expression, "expression", limits.CONDITION):
        return error.message
    return cel.validate_condition(expression)


def _name_taken(name: str) -> DomainError:
    return conflict(f"a promotion policy named {name!r} already exists", "name")


async def _locked_policy(name: str) -> PromotionPolicy:
    """The policy, its row locked until the transaction ends (repository.lock_policy)."""
    policy = await repository.lock_policy(name)
    if policy is None:
        raise not_found(f"no promotion policy named {name!r}", "name")
    return policy


async def create_policy(access: Access, values: PolicyFields) -> PromotionPolicy:
    """Create a policy at version 1 (super-admins only)."""
    access.require_super_admin()
    # Off the event loop: parsing, type-checking and trying out the conditions take ms.
    values = await cel.off_loop(_validate, values)
    if await PromotionPolicy.exists(name=values.name):
        raise _name_taken(values.name)
    try:
        policy = await PromotionPolicy.create(
            **{f.name: getattr(values, f.name) for f in fields(values)}
        )
    except IntegrityError:
        # Two admins creating the same name at once: the unique index decides, and the
        # loser gets the same answer as when the name was already taken.
        raise _name_taken(values.name) from None
    await publish(PolicyCreated(access, policy.name, _audit(values)))
    return policy


def _audit(values: PolicyFields) -> dict[str, object]:
    return {f.name: getattr(values, f.name) for f in fields(values) if f.name != "name"}


async def update_policy(
    access: Access, name: str, patch: dict[str, Any], *, if_version: int | None = None
) -> PromotionPolicy:
    """Change a policy (version + 1) and re-evaluate its open requests in the same transaction.

    `patch` holds only the fields the caller set; a condition set to "" is removed. With
    `if_version`, the change is made only while the policy is still at that version:
    CONFLICT otherwise, so an editor never overwrites a change it has not seen.
    """
    access.require_super_admin()
    # Every version names exactly one content (SPEC §3), also when admins update at the
    # same moment: the row is locked first, so concurrent updates run one after another,
    # each patching what the previous one committed. A bare compare-and-set with retries
    # would work too, but under N concurrent updates all but one lose each round.
    policy = await _locked_policy(name)
    if if_version is not None and policy.version != if_version:
        raise conflict(
            f"policy {name} is at version {policy.version}, not {if_version}: it "
            "changed since you read it; reload it and try again",
            "ifVersion",
        )
    current = PolicyFields(**{f.name: getattr(policy, f.name) for f in fields(PolicyFields)})
    values = await cel.off_loop(_validate, replace(current, **patch))
    if values.name != policy.name and await PromotionPolicy.exists(name=values.name):
        raise _name_taken(values.name)
    try:
        # Compare-and-set on the version as well: should the lock not hold (another
        # process writing the row without taking it), the change is refused, never lost.
        written = await repository.compare_and_set(
            policy.id, policy.version, {f.name: getattr(values, f.name) for f in fields(values)}
        )
    except IntegrityError:  # renamed to a name another admin took a moment ago
        raise _name_taken(values.name) from None
    if not written:
        raise conflict(
            f"policy {name} changed while this update was being made; try again",
            "ifVersion" if if_version is not None else "name",
        )
    policy = await PromotionPolicy.get(id=policy.id)
    # Audit records it; promotions re-evaluates the policy's awaiting requests (SPEC §3).
    await publish(
        PolicyChanged(access, policy.id, policy.name, name, policy.version, _audit(values))
    )
    return policy


async def delete_policy(access: Access, name: str) -> None:
    """Delete a policy; the pending requests of the pairs it governed turn STALE."""
    access.require_super_admin()
    # Locked first, in the same order as an update (policy row, then its requests), so a
    # delete racing an update of the same policy waits instead of deadlocking.
    policy = await _locked_policy(name)
    pairs = await repository.pairs_of_policy(policy.id)
    await publish(PairsLostPolicy(access, tuple(pairs), f"policy {policy.name!r} was deleted"))
    await PolicyBinding.filter(policy_id=policy.id).delete()
    await policy.delete()
    await publish(PolicyDeleted(access, name))


async def apply_policy(
    access: Access,
    policy_name: str | None,
    pairs: list[Pair],
    *,
    field: str = "applicationEnvironments",
    policy_field: str = "policy",
) -> list[PolicyBinding]:
    """Make `policy_name` (None: no policy) govern every pair, all or nothing."""
    access.require_super_admin()
    if error := limits.check_list(pairs, field):  # before the names are looked up
        raise error
    errors = ErrorCollector()
    policy = None
    if policy_name is not None:
        policy = await PromotionPolicy.get_or_none(name=policy_name)
        if policy is None:
            errors.add(not_found(f"no promotion policy named {policy_name!r}", policy_field))
    apps = {a.name: a for a in await Application.filter(name__in=[p.application for p in pairs])}
    envs = {e.name: e for e in await Environment.filter(name__in=[p.environment for p in pairs])}
    with_pipeline = await repository.pairs_with_pipeline(
        [a.id for a in apps.values()], [e.id for e in envs.values()]
    )
    if not pairs:
        errors.add(validation("name at least one application/environment pair", field))
    # Checked before de-duplicating, so `field[i]` is the index in the caller's own list.
    for i, pair in enumerate(pairs):
        for error in _bad_pair(pair, apps, envs, with_pipeline, f"{field}[{i}]"):
            errors.add(error)
    errors.raise_if_any()
    pairs = list(dict.fromkeys(pairs))  # the same pair twice is applied once

    bindings: list[PolicyBinding] = []
    for pair in pairs:
        app, env = apps[pair.application], envs[pair.environment]
        binding = await PolicyBinding.get_or_none(application_id=app.id, environment_id=env.id)
        if binding is not None and policy is not None and binding.policy_id == policy.id:
            bindings.append(binding)  # re-applying the same policy changes nothing
            continue
        if binding is None and policy is None:
            continue  # un-applying a pair that has no policy changes nothing either
        if binding is not None:
            await publish(
                PairsLostPolicy(
                    access,
                    ((app.id, env.id),),
                    f"the policy of {app.name}/{env.name} was "
                    + ("changed" if policy is not None else "removed"),
                )
            )
        if policy is None:
            if binding is not None:
                await binding.delete()
        elif binding is None:
            binding = await PolicyBinding.create(
                policy_id=policy.id, application_id=app.id, environment_id=env.id
            )
        else:
            binding.policy_id = policy.id
            await binding.save(update_fields=["policy_id"])
        if binding is not None and policy is not None:
            bindings.append(binding)
        await publish(
            PairPolicyChanged(access, app.name, env.name, policy.name if policy else None)
        )
    return bindings


async def list_policies(access: Access) -> list[PromotionPolicy]:
    """Every policy, by name (super-admins)."""
    access.require_super_admin()
    return await repository.policies_by_name()


async def get_policy(access: Access, name: str) -> PromotionPolicy | None:
    """The policy named `name`, None when unknown (super-admins)."""
    access.require_super_admin()
    return await repository.policy_named(name)


async def list_bindings(
    access: Access, application: str | None, environment: str | None, policy: str | None
) -> list[PolicyBinding]:
    """Bindings, oldest first, filtered by names (None: any) (super-admins)."""
    access.require_super_admin()
    return await repository.bindings_matching(application, environment, policy)
