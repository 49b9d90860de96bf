"""Rollback (issue 18): deploy again an image that SUCCEEDED in an environment before, in
place of the one there now.

An image that succeeded there already reached the environment once, so neither the normal
path (passed the parent's stages) nor a promotion and its policy is asked of it again. What
holds for any deployment still holds: BUILD_DEPLOY on the pair, the pair's promotion
window, and the environment's own rules (filter conditions, deployment approvals, no
deployment of the image already under way), judged by the same `Target.assess` as
deployImage. The rollback starts like every deployment (`service.start`) and is marked
with the deployment it replaces (`rollback_of`).
"""

from __future__ import annotations

from app import ids
from app.accounts.access import Access
from app.accounts.models import Role
from app.audit.service import record
from app.catalog.models import CdPipeline
from app.deployments import service
from app.deployments.eligibility import Candidate, Target
from app.deployments.models import Deployment, DeploymentStatus
from app.errors import DomainError, ErrorCode
from app.events import DeploymentRolledBack, publish

FIELD = "toImage"


async def newest_succeeded(pipeline: CdPipeline, image_id: int | None = None) -> Deployment | None:
    """The newest SUCCEEDED deployment to the pipeline's environment (of the image, when
    given): without an image, the deployment whose image runs there now."""
    rows = Deployment.filter(
        application_id=pipeline.application_id,
        environment_id=pipeline.environment_id,
        status=DeploymentStatus.SUCCEEDED,
    )
    if image_id is not None:
        rows = rows.filter(image_id=image_id)
    return await rows.order_by("-id").first()


def _refused(message: str) -> DomainError:
    return DomainError(ErrorCode.NOT_ROLLBACKABLE, message, FIELD)


async def rollback_deployment(
    access: Access, application: str, environment: str, to_image_id: int
) -> Deployment:
    """Deploy `to_image_id` again in place of the environment's current image (BUILD_DEPLOY);
    refused unless it SUCCEEDED there before and is not the current one."""
    pipeline, image = await service.target_and_image(
        access, Role.BUILD_DEPLOY, application, environment, to_image_id, FIELD
    )
    current = await newest_succeeded(pipeline)
    if current is None:
        raise _refused(f"nothing has succeeded in {environment} yet: there is nothing to roll back")
    if current.image_id == image.id:
        raise _refused(
            f"{image.image} is the image in {environment} now "
            f"(deployment {ids.global_id('Deployment', current.id)})"
        )
    earlier = await newest_succeeded(pipeline, image.id)
    if earlier is None:
        raise _refused(
            f"{image.image} never succeeded in {environment}: a rollback only brings back "
            "an image that did"
        )
    await service.require_window_open(pipeline, application, environment)
    target = await Target.load(pipeline, environment, [image.id])
    [assessment] = await target.assess_all([(image, Candidate.returning(image))], explain=True)
    if not assessment.deployable:
        code, reason = assessment.failures[0]
        raise DomainError(code, reason, FIELD)
    # The rollback keeps the provenance of the deployment that brought the image the last
    # time: the promotion (if any) is why the image may be there at all.
    deployment = await service.start(
        access,
        pipeline,
        environment,
        image.id,
        earlier.promotion_request_id,
        rollback_of_id=current.id,
    )
    await record(
        access,
        "deployment.rolled_back",
        application=application,
        environment=environment,
        deployment_id=deployment.id,
        replaced_deployment_id=current.id,
        image_id=image.id,
        replaced_image_id=current.image_id,
    )
    await publish(
        DeploymentRolledBack(
            actor=access,
            deployment_id=deployment.id,
            replaced_deployment_id=current.id,
            application=application,
            environment=environment,
            image_id=image.id,
            replaced_image_id=current.image_id,
            replaced_request_id=current.promotion_request_id,
        )
    )
    return deployment
