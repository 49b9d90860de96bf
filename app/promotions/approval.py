"""May this user approve this request: the one home of the approval rule (SPEC §4, §5).

A user may approve an awaiting request when they hold ARTIFACT_PROMOTER on its
(application, target environment) pair (a binding naming the pair, either side possibly
`*`; super-admins hold every role), are not its requester unless the policy lets the
requester approve, are not one of the image's builders (app/catalog/builders.py) unless
the policy lets builders approve, and have not approved it already. The separation-of-
duty flags apply to super-admins too.

The rule has two forms, side by side, like app/catalog/builders.py:

- Python, for one request and one caller: `approval_blocker` (approving, `canApprove`,
  `cannotApproveReason`);
- SQL, for lists: `approvable_by` (pendingApprovals with pendingWithMe: the requests one
  caller may approve) and `eligible_approvers` (the users who may approve one request:
  the APPROVAL_REQUESTED emails), with its batch form `eligible_approvers_of_targets`
  (one image's application to many targets: promotionPreview's lists). The list of users counts
  roles only: an active user is listed for a binding, never for being a super-admin,
  and nobody has approved a request that is being made.

tests/promotions/test_approval_rule.py generates users, bindings (with wildcards), flags,
builders, requesters and prior decisions and checks that the SQL forms select exactly
what the Python form allows, and that the batch form lists what the one-request form
does, on both databases.

Both forms take for granted what the state changes keep true: an awaiting request's
policy is the one that governs its pair (`still_governs`; a request whose policy stops
governing turns STALE in the same transaction, app/promotions/effects.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Protocol

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from app import clock
from app.accounts.access import Access, Binding
from app.accounts.models import WILDCARD, Role, RoleBinding, User
from app.catalog.builders import not_built_by
from app.catalog.models import Application, Environment
from app.policies.models import PromotionPolicy
from app.policies.repository import policy_of_pair
from app.promotions import lifecycle
from app.promotions.models import DecisionKind, PromotionDecision, PromotionRequest
from app.sql import exists, outer


class RequestPolicy(Protocol):
    """What `still_governs` reads of a request (a row, or anything with its columns)."""

    @property
    def application_id(self) -> int: ...

    @property
    def target_environment_id(self) -> int: ...

    @property
    def policy_id(self) -> int | None: ...


def still_governs(request: RequestPolicy, governing_policy_id: int | None) -> bool:
    """True when the policy the request was made under governs its pair now.

    A request whose policy was unbound from the pair, replaced by another or deleted can
    no longer be approved or promoted: it turns STALE.
    """
    return governing_policy_id is not None and governing_policy_id == request.policy_id


async def governing_policy(request: RequestPolicy) -> PromotionPolicy | None:
    """The policy of the request's pair while it is still the request's; else None."""
    policy = await policy_of_pair(request.application_id, request.target_environment_id)
    return policy if policy is not None and still_governs(request, policy.id) else None


def counting_approvers(
    approvals: dict[int, datetime], policy: PromotionPolicy, now: datetime
) -> set[int]:
    """The users whose approval (user id → when given) still counts under the policy's
    approvalMaxAge (app/promotions/lifecycle.py); an approver whose approval aged out
    may approve again, and is not ALREADY_APPROVED."""
    return {user for user, at in approvals.items() if lifecycle.approval_counts(at, policy, now)}


def quorum_reached(approvals: int, policy: PromotionPolicy) -> bool:
    """Enough approvals for the policy (none needed when its approverCount is 0)."""
    return approvals >= policy.approver_count


def role_blocker(access: Access, application: str, environment: str) -> tuple[str, str] | None:
    """The role part of the rule alone: FORBIDDEN without ARTIFACT_PROMOTER on the pair.

    Deciding checks it before anything else (a caller without the role learns nothing
    about the request's policy), then the whole rule.
    """
    if not access.has_role(Role.ARTIFACT_PROMOTER, application, environment):
        return "FORBIDDEN", f"you need ARTIFACT_PROMOTER on {application}/{environment}"
    return None


def approval_blocker(
    access: Access,
    *,
    application: str,
    environment: str,
    requested_by_id: int,
    builder_ids: frozenset[int],
    policy: PromotionPolicy,
    approver_ids: set[int],
) -> tuple[str, str] | None:
    """Python form: (outcome code, message) that stops the caller approving, or None when
    they may.

    `builder_ids` is `app.catalog.builders.builders_of(image)`; `approver_ids` the users
    who approved the request so far.
    """
    if blocker := role_blocker(access, application, environment):
        return blocker
    me = access.user_id
    if me == requested_by_id and not policy.allow_request_from_approve:
        return "REQUESTER_CANNOT_APPROVE", (
            f"policy {policy.name} does not let the requester approve their own request"
        )
    if me is not None and me in builder_ids and not policy.allow_image_builder_from_approve:
        return "BUILDER_CANNOT_APPROVE", (
            f"policy {policy.name} does not let the image's builder approve it"
        )
    if me in approver_ids:
        return "ALREADY_APPROVED", "you have already approved this request"
    return None


async def approvable_by(
    access: Access, rows: QuerySet[PromotionRequest]
) -> QuerySet[PromotionRequest]:
    """SQL form for one caller: `rows` narrowed to the requests the caller may approve.

    Every condition is on the request's own columns or reaches another row by its id, so
    Postgres can walk the primary key backwards and stop at a page (bench/README.md,
    `promotion/`): binding names are turned into ids first (two small queries); the
    policies' flags are `policy_id IN (the policies that allow it)`, a subquery over the
    few policies run once and hashed; "not approved by me yet" is a NOT EXISTS on the
    caller's decision for the request, an anti-join probing the decisions' unique
    (request_id, user_id, kind) index per row (the `NOT IN` it replaced read every
    approval the caller ever gave, on every call). The builder rule joins the request's
    image by its id: as a join, the planner costs it with the page's LIMIT (one primary-
    key probe per row); an EXISTS in an OR becomes an "alternative subplan" that
    Postgres picks without the LIMIT and hashed over the whole images table (measured:
    195 ms for a page at 100k requests, against 0.3 ms), and a correlated `IN`, never
    hashed, is costed so high per row that the planner sorts every match for the page.
    A request without a policy satisfies no flag, as with the join it replaced.
    """
    me = access.user_id
    if not access.is_super_admin:
        bindings = [b for b in access.bindings if b.role == Role.ARTIFACT_PROMOTER]
        # A `*`/`*` binding covers every pair. Said outright: the empty Q() it would add is
        # dropped from an OR by tortoise, which narrowed the list to the other bindings
        # (found by tests/promotions/test_approval_rule.py).
        if not any(b.application == WILDCARD and b.environment == WILDCARD for b in bindings):
            rows = await _on_pairs_of(bindings, rows)
    return rows.filter(
        ~Q(requested_by_id=me) | _policy_allows(allow_request_from_approve=True),
        _policy_allows(allow_image_builder_from_approve=True) | not_built_by(me, "image__"),
        await _not_counted_approval_of(me),
    )


async def _not_counted_approval_of(me: int | None) -> Q:
    """SQL form of "has no approval of mine that still counts": NOT EXISTS my approval;
    under a policy with an approvalMaxAge, NOT EXISTS one given since its cutoff. The
    policies with an age are few: each gets its own branch, on the request's policy_id."""
    mine = PromotionDecision.filter(
        request_id=outer(PromotionRequest, "id"), user_id=me, kind=DecisionKind.APPROVE
    )
    aged = await PromotionPolicy.filter(approval_max_age_seconds__isnull=False).only(
        "id", "approval_max_age_seconds"
    )
    if not aged:
        return ~exists(mine)
    now = clock.now()
    condition = Q(
        ~exists(mine),
        Q(policy_id__not_in=[p.id for p in aged]) | Q(policy_id__isnull=True),
    )
    for policy in aged:
        assert policy.approval_max_age_seconds is not None
        cutoff = now - timedelta(seconds=policy.approval_max_age_seconds)
        condition |= Q(Q(policy_id=policy.id), ~exists(mine.filter(at__gte=cutoff)))
    return condition


def _policy_allows(**flag: bool) -> Q:
    """The requests whose policy has `flag` set: an uncorrelated subquery on the policy
    table, evaluated once (hashed), not per row."""
    return Q(policy_id__in=Subquery(PromotionPolicy.filter(**flag).values("id")))


async def _on_pairs_of(
    bindings: list[Binding], rows: QuerySet[PromotionRequest]
) -> QuerySet[PromotionRequest]:
    """`rows` narrowed to the pairs the bindings name (none of them `*`/`*`)."""
    apps = dict(
        await Application.filter(name__in=sorted({b.application for b in bindings})).values_list(
            "name", "id"
        )
    )
    envs = dict(
        await Environment.filter(name__in=sorted({b.environment for b in bindings})).values_list(
            "name", "id"
        )
    )
    scopes = []
    for binding in bindings:
        scope = Q()
        if binding.application != WILDCARD:
            if binding.application not in apps:
                continue
            scope &= Q(application_id=apps[binding.application])
        if binding.environment != WILDCARD:
            if binding.environment not in envs:
                continue
            scope &= Q(target_environment_id=envs[binding.environment])
        scopes.append(scope)
    if not scopes:
        return rows.filter(id__in=[])
    return rows.filter(reduce(or_, scopes))


async def eligible_approvers(
    application: str,
    environment: str,
    policy: PromotionPolicy,
    *,
    requester_id: int | None,
    builder_ids: frozenset[int],
) -> list[User]:
    """SQL form for one request: the active users, by email, whose role bindings let them
    approve it (wildcards too) and whom the policy's flags don't block.

    Super-admins are not listed just for being super-admins; `requester_id` None is a
    request nobody made (nobody is excluded as its requester).
    """
    users = User.filter(
        active=True,
        id__in=Subquery(
            RoleBinding.filter(
                role=Role.ARTIFACT_PROMOTER,
                application__in=[application, WILDCARD],
                environment__in=[environment, WILDCARD],
            ).values("user_id")
        ),
    )
    if requester_id is not None and not policy.allow_request_from_approve:
        users = users.exclude(id=requester_id)
    if builder_ids and not policy.allow_image_builder_from_approve:
        users = users.exclude(id__in=sorted(builder_ids))
    return await users.order_by("email")


async def eligible_approvers_of_targets(
    application: str,
    targets: Sequence[tuple[str, PromotionPolicy]],
    *,
    requester_id: int | None,
    builder_ids: frozenset[int],
) -> list[list[User]]:
    """Batch form of `eligible_approvers`: for each (environment, policy) of `targets`, in
    order, the users it would list, read in one query whatever the number of targets.

    The bindings of all the targets' pairs come back with their active users and each
    target keeps the users bound on its environment or `*`; the policy's flags are applied
    per target in Python, as `eligible_approvers` applies them in SQL.
    """
    if not targets:
        return []
    rows = (
        await RoleBinding.filter(
            role=Role.ARTIFACT_PROMOTER,
            application__in=[application, WILDCARD],
            environment__in=sorted({env for env, _ in targets} | {WILDCARD}),
            user__active=True,
        )
        .select_related("user")
        # Sorted by the database, so each list is in the order `eligible_approvers` gives.
        .order_by("user__email", "id")
    )
    users: dict[int, User] = {}
    scopes = set()
    for binding in rows:
        users.setdefault(binding.user_id, binding.user)
        scopes.add((binding.user_id, binding.environment))

    def listed(user: User, environment: str, policy: PromotionPolicy) -> bool:
        if (user.id, environment) not in scopes and (user.id, WILDCARD) not in scopes:
            return False
        if user.id == requester_id and not policy.allow_request_from_approve:
            return False
        return not (user.id in builder_ids and not policy.allow_image_builder_from_approve)

    return [[u for u in users.values() if listed(u, env, policy)] for env, policy in targets]
