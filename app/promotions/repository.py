"""Queries of promotion requests."""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from app.accounts.access import Access
from app.accounts.models import WILDCARD, Role, RoleBinding, User
from app.catalog.builders import not_built_by
from app.catalog.models import (
    Application,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Workflow,
)
from app.catalog.repository import pipelines_of_workflow
from app.catalog.stages import configured_stages
from app.policies.models import PromotionPolicy
from app.promotions.models import (
    DecisionKind,
    PromotionDecision,
    PromotionRequest,
    PromotionStatus,
)


async def approver_ids(request_id: int) -> set[int]:
    rows = await PromotionDecision.filter(
        request_id=request_id, kind=DecisionKind.APPROVE
    ).values_list("user_id", flat=True)
    return set(rows)


async def awaiting_of_policy(policy_id: int) -> list[PromotionRequest]:
    return await PromotionRequest.filter(
        policy_id=policy_id, status=PromotionStatus.AWAITING_APPROVAL
    ).select_related("image").order_by("id")


async def eligible_approvers(
    application: str,
    environment: str,
    policy: PromotionPolicy,
    *,
    requester_id: int | None,
    builder_ids: frozenset[int],
) -> list[User]:
    """Active users holding ARTIFACT_PROMOTER on the pair (wildcards too) whom the policy's
    flags don't block. Super-admins are not listed just for being super-admins."""
    users = User.filter(
        active=True,
        id__in=Subquery(RoleBinding.filter(
            role=Role.ARTIFACT_PROMOTER,
            application__in=[application, WILDCARD],
            environment__in=[environment, WILDCARD],
        ).values("user_id")),
    )
    if requester_id is not None and not policy.allow_request_from_approve:
        users = users.exclude(id=requester_id)
    if builder_ids and not policy.allow_image_builder_from_approve:
        users = users.exclude(id__in=sorted(builder_ids))
    return await users.order_by("email")


async def _ids(model: type[Application] | type[Environment], names: set[str]) -> list[int]:
    return list(await model.filter(name__in=sorted(names)).values_list("id", flat=True))


async def visible_requests(access: Access, application: str | None = None
                           ) -> QuerySet[PromotionRequest]:
    """Requests of the applications the caller may see (and of `application`, if given).

    Names are turned into ids first, so the request table is filtered on its own
    indexed columns rather than through joins the planner misjudges (bench/promotion.py).
    """
    wanted = access.visible_applications()
    if application is not None:
        wanted = {application} if wanted is None else wanted & {application}
    rows = PromotionRequest.all()
    if wanted is not None:
        rows = rows.filter(application_id__in=await _ids(Application, wanted))
    return rows


async def pending_requests(
    access: Access, *, application: str | None, workflow: str | None,
    environment: str | None, pending_with_me: bool,
) -> QuerySet[PromotionRequest]:
    """Requests awaiting approval, filtered; with `pending_with_me`, only those the
    caller could approve now."""
    rows = (await visible_requests(access, application)).filter(
        status=PromotionStatus.AWAITING_APPROVAL)
    if workflow is not None:
        workflows = Workflow.filter(name=workflow)
        if application is not None:
            workflows = workflows.filter(application__name=application)
        rows = rows.filter(workflow_id__in=list(await workflows.values_list("id", flat=True)))
    if environment is not None:
        rows = rows.filter(target_environment_id__in=await _ids(Environment, {environment}))
    return await _approvable_by(access, rows) if pending_with_me else rows


async def _approvable_by(access: Access, rows: QuerySet[PromotionRequest]
                         ) -> QuerySet[PromotionRequest]:
    """The same rules as `rules.approval_blocker`, in SQL, so the list pages: the role on
    the pair, the policy's requester/builder flags, not yet approved by the caller."""
    me = access.user_id
    if not access.is_super_admin:
        bindings = [b for b in access.bindings if b.role == Role.ARTIFACT_PROMOTER]
        apps = dict(await Application.filter(name__in=sorted(
            {b.application for b in bindings})).values_list("name", "id"))
        envs = dict(await Environment.filter(name__in=sorted(
            {b.environment for b in bindings})).values_list("name", "id"))
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
        rows = rows.filter(reduce(or_, scopes))
    return rows.filter(
        Q(policy__allow_request_from_approve=True) | ~Q(requested_by_id=me),
        Q(policy__allow_image_builder_from_approve=True) | not_built_by(me, "image__"),
    ).exclude(id__in=Subquery(PromotionDecision.filter(
        user_id=me, kind=DecisionKind.APPROVE).values("request_id")))


async def images_passed_at(workflow_id: int, environment_id: int) -> list[int]:
    """Ids of the workflow's images whose latest run of every configured stage succeeded."""
    pipeline = next(p for p in await pipelines_of_workflow(workflow_id)
                    if p.environment_id == environment_id)
    stages = configured_stages(pipeline)
    latest: dict[tuple[int, Stage], StageStatus] = {}
    runs = await StageRun.filter(
        environment_id=environment_id, image__workflow_id=workflow_id
    ).order_by("id").values_list("image_id", "stage", "status")
    for image_id, stage, status in runs:
        latest[(image_id, Stage(stage))] = StageStatus(status)
    image_ids = {image_id for image_id, _ in latest}
    return sorted(i for i in image_ids
                  if all(latest.get((i, s)) == StageStatus.SUCCEEDED for s in stages))


def images_of_workflow(workflow_id: int) -> QuerySet[Image]:
    return Image.filter(workflow_id=workflow_id)
