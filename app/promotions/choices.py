"""What the promote dialog offers: images to pick and target environments (SPEC §5)."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from app.accounts.access import Access
from app.catalog.models import Application, CdPipeline, Environment, Image, Workflow
from app.catalog.stages import passed_images
from app.errors import not_found
from app.policies.models import PolicyBinding, PromotionPolicy
from app.promotions import repository
from app.promotions.checks import Source
from app.promotions.models import SourceType


async def _workflow(access: Access, application: str, workflow: str) -> Workflow:
    """The application's workflow, when the caller may see the application; else NOT_FOUND."""
    if not access.can_view(application) or not await Application.exists(name=application):
        raise not_found(f"no application named {application!r}", "application")
    row = await Workflow.get_or_none(application__name=application, name=workflow)
    if row is None:
        raise not_found(f"{application} has no workflow named {workflow!r}", "workflow")
    return row


async def promotable_images(
    access: Access, application: str, workflow: str, source: Source
) -> QuerySet[Image]:
    """Images to pick in the promote dialog: the workflow's (CI), or those that passed all
    stages of the source environment; newest first once paged."""
    wf = await _workflow(access, application, workflow)
    images = repository.images_of_workflow(wf.id)
    if source.type == SourceType.ENVIRONMENT:
        pipeline = await CdPipeline.get_or_none(
            workflow_id=wf.id, environment__name=source.environment or ""
        )
        if pipeline is None:
            raise not_found(
                f"workflow {workflow} has no CD pipeline in {source.environment!r}",
                "source.environment",
            )
        images = passed_images(images, pipeline)
    return images


async def promotion_targets(
    access: Access, application: str, workflow: str
) -> list[tuple[Environment, PromotionPolicy]]:
    """The workflow's environments that have a policy, in tree order, with the policy."""
    wf = await _workflow(access, application, workflow)
    pipelines = (
        await CdPipeline.filter(workflow_id=wf.id)
        .order_by("position")
        .select_related("environment")
    )
    bindings = {
        b.environment_id: b.policy
        for b in await PolicyBinding.filter(
            application_id=wf.application_id,
            environment_id__in=[p.environment_id for p in pipelines],
        ).select_related("policy")
    }
    return [
        (p.environment, bindings[p.environment_id])
        for p in pipelines
        if p.environment_id in bindings
    ]
