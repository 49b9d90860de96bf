"""Deploying images: deployment approvals, the checks of SPEC §6, AUTOMATIC triggers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from app import ids
from app.accounts.access import SYSTEM, Access
from app.accounts.models import Role
from app.audit.service import record
from app.catalog import stages
from app.catalog.builders import builders_of
from app.catalog.models import Application, CdPipeline, Environment, Image, StageRun, Trigger
from app.catalog.repository import get_visible_image
from app.catalog.service import pipeline_of
from app.catalog.stages import passed_all_stages
from app.deployments import repository
from app.deployments.eligibility import (
    Assessment,
    Candidate,
    Target,
    candidate,
    candidates,
    count_candidates,
)
from app.deployments.models import (
    ACTIVE_STATUSES,
    Deployment,
    DeploymentApproval,
    DeploymentStatus,
)
from app.errors import DomainError, ErrorCode, conflict, not_found
from app.outbox import service as outbox
from app.outbox.registry import each_due
from app.policies.repository import policy_of_pair
from app.promotions import gates
from app.promotions.models import DecisionKind, PromotionDecision, PromotionRequest, PromotionStatus
from app.windows import service as windows

EXECUTE_JOB = "deployments.execute"


@dataclass
class DeployablePage:
    """One page of the images that may go to an environment, each with why or why not."""

    assessments: list[Assessment]
    has_next: bool
    pipeline: CdPipeline

    async def total(self) -> int:
        """How many images all the pages list."""
        return await count_candidates(self.pipeline)


async def deployable_images(
    access: Access, application: str, environment: str, first: int, before_image: int | None
) -> DeployablePage:
    """Up to `first` images that may go to the environment, newest first, below image id
    `before_image` (None: from the newest), each with why or why not."""
    access.require_view(application)
    pipeline = await pipeline_of(application, environment)
    found = await candidates(pipeline, first + 1, before_image)
    page = found[:first]
    target = await Target.load(pipeline, environment, [c.image.id for c in page])
    assessments = await target.assess_all([(c.image, c) for c in page])
    return DeployablePage(assessments, len(found) > first, pipeline)


async def _assess_one(pipeline: CdPipeline, environment: str, image: Image) -> Assessment:
    target = await Target.load(pipeline, environment, [image.id])
    # One image: its refusal names the filter's failed clauses (a list's reasons do not).
    [assessment] = await target.assess_all(
        [(image, await candidate(pipeline, image))], explain=True
    )
    return assessment


async def approve_deployment(
    access: Access, application: str, environment: str, image_id: int
) -> None:
    """A DEPLOYMENT_APPROVER's Image Deployment Approval of an image for the environment."""
    pipeline, image = await target_and_image(
        access, Role.DEPLOYMENT_APPROVER, application, environment, image_id
    )
    if access.user is None:
        raise DomainError(ErrorCode.VALIDATION, "the system does not approve deployments")
    if access.user_id in builders_of(image):
        raise DomainError(
            ErrorCode.BUILDER_CANNOT_APPROVE,
            "the image's builder cannot approve its deployment",
            "imageId",
        )
    if await candidate(pipeline, image) is None:
        raise DomainError(
            ErrorCode.NOT_DEPLOYABLE, f"the image has not reached {environment}", "imageId"
        )
    if await DeploymentApproval.exists(
        image_id=image.id, environment_id=pipeline.environment_id, user_id=access.user.id
    ):
        raise conflict("you have already approved this image for this environment", "imageId")
    await DeploymentApproval.create(
        image_id=image.id, environment_id=pipeline.environment_id, user_id=access.user.id
    )
    await record(
        access,
        "deployment.approved",
        application=application,
        environment=environment,
        image_id=image.id,
    )


async def target_and_image(
    access: Access,
    role: Role,
    application: str,
    environment: str,
    image_id: int,
    field: str = "imageId",
) -> tuple[CdPipeline, Image]:
    """FORBIDDEN without `role` on the pair (top-level); then the pipeline and the image
    (NOT_FOUND naming `field`, the argument that gave the image)."""
    access.require_role(role, application, environment)
    pipeline = await pipeline_of(application, environment)
    image = await get_visible_image(access, image_id, field)
    if image.application_id != pipeline.application_id:
        raise not_found(
            f"no image with id {ids.global_id('Image', image_id)} in this application", field
        )
    return pipeline, image


async def require_window_open(pipeline: CdPipeline, application: str, environment: str) -> None:
    """WINDOW_CLOSED while the pair's promotion window is closed, saying when it opens."""
    window = await windows.state_of_pair(pipeline.application_id, pipeline.environment_id)
    if not window.open:
        raise DomainError(
            ErrorCode.WINDOW_CLOSED,
            f"the promotion window of {application}/{environment} is closed "
            f"({', '.join(window.closed_by)}); it {gates.opens_text(window)}",
            "environment",
        )


async def _approved_the_promotion(user_id: int | None, request: PromotionRequest) -> bool:
    return await PromotionDecision.exists(
        request_id=request.id, user_id=user_id, kind=DecisionKind.APPROVE
    )


async def deploy_image(
    access: Access, application: str, environment: str, image_id: int
) -> Deployment:
    """Deploy after the checks of SPEC §6, in order; the executor runs it after commit."""
    pipeline, image = await target_and_image(
        access, Role.BUILD_DEPLOY, application, environment, image_id
    )
    await require_window_open(pipeline, application, environment)
    assessment = await _assess_one(pipeline, environment, image)
    if not assessment.deployable:
        code, reason = assessment.failures[0]
        raise DomainError(code, reason, "imageId")
    found = assessment.candidate
    assert found is not None
    if found.promoted_only and found.promotion is not None:
        # The policy that governs the pair now decides; with none, the promotion's own.
        policy = await policy_of_pair(pipeline.application_id, pipeline.environment_id)
        if policy is None and found.promotion.policy_id is not None:
            await found.promotion.fetch_related("policy")
            policy = found.promotion.policy
        allowed = policy is not None and policy.allow_approver_from_deploy
        if not allowed and await _approved_the_promotion(access.user_id, found.promotion):
            raise DomainError(
                ErrorCode.APPROVER_CANNOT_DEPLOY,
                "you approved this image's promotion, and the policy does not "
                "let approvers deploy it",
                "imageId",
            )
    return await _start(access, pipeline, environment, found)


async def _start(
    access: Access, pipeline: CdPipeline, environment: str, found: Candidate
) -> Deployment:
    promotion = found.promotion if found.promoted_only else None
    return await start(
        access, pipeline, environment, found.image.id, promotion.id if promotion else None
    )


async def start(
    access: Access,
    pipeline: CdPipeline,
    environment: str,
    image_id: int,
    promotion_request_id: int | None,
    rollback_of_id: int | None = None,
) -> Deployment:
    """Make the QUEUED deployment, audit it, and enqueue its execution (after commit):
    the one way every deployment starts (deployImage, AUTOMATIC triggers, rollback)."""
    deployment = await Deployment.create(
        application_id=pipeline.application_id,
        environment_id=pipeline.environment_id,
        image_id=image_id,
        deployed_by_id=access.user_id,
        promotion_request_id=promotion_request_id,
        rollback_of_id=rollback_of_id,
    )
    app = await Application.get(id=pipeline.application_id)
    await record(
        access,
        "deployment.created",
        application=app.name,
        environment=environment,
        deployment_id=deployment.id,
        image_id=image_id,
        promotion_request_id=promotion_request_id,
    )
    await outbox.enqueue(EXECUTE_JOB, deployment_id=deployment.id)
    return deployment


async def auto_deploy(pipeline: CdPipeline, image: Image) -> str | None:
    """Deploy as the system to an AUTOMATIC pipeline; the reason it was not made, if not."""
    environment = (await Environment.get(id=pipeline.environment_id)).name
    assessment = await _assess_one(pipeline, environment, image)
    if assessment.deployable and assessment.candidate is not None:
        await _start(SYSTEM, pipeline, environment, assessment.candidate)
        return None
    reason = "; ".join(assessment.reasons)
    app = await Application.get(id=pipeline.application_id)
    await record(
        SYSTEM,
        "deployment.auto_blocked",
        application=app.name,
        environment=environment,
        image_id=image.id,
        reason=reason,
    )
    return reason


async def after_promotion(
    request_id: int, application_id: int, environment_id: int, image_id: int
) -> None:
    """A PROMOTED image goes on to an AUTOMATIC target; a block is noted on the request.
    While the pair's promotion window is closed it waits: the request is marked, and the
    sweep `deploy_after_window` deploys once the window opens."""
    pipeline = await CdPipeline.get(application_id=application_id, environment_id=environment_id)
    if pipeline.trigger != Trigger.AUTOMATIC:
        return
    if not (await windows.state_of_pair(application_id, environment_id)).open:
        await PromotionRequest.filter(id=request_id).update(auto_deploy_waiting=True)
        return
    reason = await auto_deploy(pipeline, await Image.get(id=image_id))
    if reason is not None:
        await PromotionRequest.filter(id=request_id).update(auto_deploy_blocked_reason=reason)


async def deploy_after_window() -> int:
    """The AUTOMATIC deployments that waited for a promotion window, made once it opened;
    how many were made. Each is taken with a conditional UPDATE of its request's mark, in
    its own transaction, so sweeps running at once deploy it once."""
    waiting = PromotionRequest.filter(auto_deploy_waiting=True, status=PromotionStatus.PROMOTED)
    pairs = await waiting.distinct().values_list("application_id", "target_environment_id")
    if not pairs:
        return 0
    states = await windows.states_of_pairs([(a, e) for a, e in pairs])
    opened = [
        Q(application_id=a, target_environment_id=e) for (a, e), s in states.items() if s.open
    ]
    if not opened:
        return 0

    async def deploy(request_id: int) -> int:
        if not await PromotionRequest.filter(id=request_id, auto_deploy_waiting=True).update(
            auto_deploy_waiting=False
        ):
            return 0  # another sweep took it
        request = await PromotionRequest.get(id=request_id)
        await after_promotion(
            request.id, request.application_id, request.target_environment_id, request.image_id
        )
        return 1

    return await each_due(waiting.filter(reduce(or_, opened)).order_by("id"), deploy)


async def image_built(image: Image) -> None:
    """A new CI image goes to the workflow's AUTOMATIC pipelines that follow CI."""
    for pipeline in await CdPipeline.filter(
        workflow_id=image.workflow_id, parent_id=None, trigger=Trigger.AUTOMATIC
    ):
        await auto_deploy(pipeline, image)


async def stage_reported(pipeline: CdPipeline, run: StageRun) -> None:
    """A stage run moves the deployment under way; passing all stages feeds AUTOMATIC children."""
    deployment = (
        await Deployment.filter(
            image_id=run.image_id,
            environment_id=run.environment_id,
            status__in=ACTIVE_STATUSES,
        )
        .order_by("-id")
        .first()
    )
    if deployment is not None:
        await StageRun.filter(id=run.id).update(deployment_id=deployment.id)
        await _follow_stages(deployment, pipeline)
    if await passed_all_stages(run.image_id, pipeline):
        image = await Image.get(id=run.image_id)
        for child in await CdPipeline.filter(parent_id=pipeline.id, trigger=Trigger.AUTOMATIC):
            await auto_deploy(child, image)


async def _follow_stages(deployment: Deployment, pipeline: CdPipeline) -> None:
    """The deployment's status follows the latest run of each configured stage."""
    latest = stages.latest_by_stage(
        await StageRun.filter(deployment_id=deployment.id)
        .order_by("id")
        .values_list("stage", "status")
    )
    if stages.failed(latest, pipeline):
        status = DeploymentStatus.FAILED
    elif stages.passed(latest, pipeline):
        status = DeploymentStatus.SUCCEEDED
    else:
        status = DeploymentStatus.RUNNING
    if status != deployment.status:
        changed = await Deployment.filter(id=deployment.id, status__in=ACTIVE_STATUSES).update(
            status=status
        )
        if changed:
            app = await Application.get(id=deployment.application_id)
            await record(
                SYSTEM,
                f"deployment.{status.value.lower()}",
                application=app.name,
                deployment_id=deployment.id,
            )


def deployment_history(
    access: Access, application: str, environment: str | None
) -> QuerySet[Deployment]:
    """The application's deployments (to the environment; None: any), for its viewers."""
    access.require_view(application)
    return repository.deployments_of(application, environment)
