"""Queries of promotion requests."""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from app.accounts.access import Access
from app.accounts.models import WILDCARD, Role, RoleBinding, User
from app.catalog.models import Image, Stage, StageRun, StageStatus
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
    builder_id: int | None,
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
    if builder_id is not None and not policy.allow_image_builder_from_approve:
        users = users.exclude(id=builder_id)
    return await users.order_by("email")


def visible(queryset: QuerySet[PromotionRequest], access: Access) -> QuerySet[PromotionRequest]:
    names = access.visible_applications()
    return queryset if names is None else queryset.filter(application__name__in=sorted(names))


def pending_with(access: Access, queryset: QuerySet[PromotionRequest]
                 ) -> QuerySet[PromotionRequest]:
    """Only the requests the caller could approve now: role, the policy's flags, not yet
    approved by them. The same rules as `rules.approval_blocker`, in SQL, so it pages."""
    me = access.user_id
    if not access.is_super_admin:
        scopes = []
        for binding in access.bindings:
            if binding.role != Role.ARTIFACT_PROMOTER:
                continue
            scope = Q()
            if binding.application != WILDCARD:
                scope &= Q(application__name=binding.application)
            if binding.environment != WILDCARD:
                scope &= Q(target_environment__name=binding.environment)
            scopes.append(scope)
        if not scopes:
            return queryset.filter(id__in=[])
        queryset = queryset.filter(reduce(or_, scopes))
    return queryset.filter(
        Q(policy__allow_request_from_approve=True) | ~Q(requested_by_id=me),
        Q(policy__allow_image_builder_from_approve=True) | Q(image__built_by_id__isnull=True)
        | ~Q(image__built_by_id=me),
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
