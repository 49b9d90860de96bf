"""Queries of promotion requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from app.accounts.access import Access
from app.catalog.models import Application, Environment, Image, Workflow
from app.db import column
from app.promotions import approval
from app.promotions.models import (
    DecisionKind,
    PromotionDecision,
    PromotionRequest,
    PromotionStatus,
)


async def approvals_of(request_id: int) -> dict[int, datetime]:
    """The request's approvals: when each approver gave theirs, by user id."""
    rows = await PromotionDecision.filter(request_id=request_id, kind=DecisionKind.APPROVE).only(
        "user_id", "at"
    )
    return {row.user_id: row.at for row in rows}


async def approvals_in_order(request_id: int) -> list[PromotionDecision]:
    """The request's approvals with their approvers, oldest first."""
    return (
        await PromotionDecision.filter(request_id=request_id, kind=DecisionKind.APPROVE)
        .select_related("user")
        .order_by("at", "id")
    )


async def count_by_status() -> dict[PromotionStatus, int]:
    """How many requests are in each status (every status, 0 for none): one GROUP BY."""
    rows = (
        await PromotionRequest.all()
        .group_by("status")
        .annotate(n=Count("id"))
        .values("status", "n")
    )
    counts = dict.fromkeys(PromotionStatus, 0)
    for row in rows:
        counts[PromotionStatus(row["status"])] = int(row["n"])
    return counts


async def awaiting_of_policy(policy_id: int) -> list[PromotionRequest]:
    return (
        await PromotionRequest.filter(policy_id=policy_id, status=PromotionStatus.AWAITING_APPROVAL)
        .select_related("image")
        .order_by("id")
    )


async def _ids(model: type[Application] | type[Environment], names: set[str]) -> list[int]:
    return await column(model.filter(name__in=sorted(names)).values_list("id", flat=True), int)


async def visible_requests(
    access: Access, application: str | None = None
) -> QuerySet[PromotionRequest]:
    """Requests of the applications the caller may see (and of `application`, if given).

    Names are turned into ids first, so the request table is filtered on its own
    indexed columns rather than through joins the planner misjudges (bench/promotion/).
    """
    wanted = access.visible_applications()
    if application is not None:
        wanted = {application} if wanted is None else wanted & {application}
    rows = PromotionRequest.all()
    if wanted is not None:
        rows = rows.filter(application_id__in=await _ids(Application, wanted))
    return rows


async def pending_requests(
    access: Access,
    *,
    application: str | None,
    workflow: str | None,
    environment: str | None,
    pending_with_me: bool,
) -> QuerySet[PromotionRequest]:
    """Requests awaiting approval, filtered; with `pending_with_me`, only those the
    caller could approve now."""
    rows = (await visible_requests(access, application)).filter(
        status=PromotionStatus.AWAITING_APPROVAL
    )
    if workflow is not None:
        workflows = Workflow.filter(name=workflow)
        if application is not None:
            workflows = workflows.filter(application__name=application)
        rows = rows.filter(workflow_id__in=list(await workflows.values_list("id", flat=True)))
    if environment is not None:
        rows = rows.filter(target_environment_id__in=await _ids(Environment, {environment}))
    return await approval.approvable_by(access, rows) if pending_with_me else rows


def images_of_workflow(workflow_id: int) -> QuerySet[Image]:
    return Image.filter(workflow_id=workflow_id)


def with_status(
    rows: QuerySet[PromotionRequest], statuses: Sequence[PromotionStatus] | None
) -> QuerySet[PromotionRequest]:
    """`rows` narrowed to requests in one of `statuses` (None: any)."""
    return rows if statuses is None else rows.filter(status__in=list(statuses))


async def requests_by_ids(ids: Sequence[int]) -> list[PromotionRequest]:
    return await PromotionRequest.filter(id__in=list(ids))


async def decisions_of_requests(request_ids: Sequence[int]) -> list[PromotionDecision]:
    """The requests' decisions, oldest first."""
    return await PromotionDecision.filter(request_id__in=list(request_ids)).order_by("id")
