"""Which images may deploy to an environment, and why not (SPEC §6). Always say why."""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from app import cel, ids
from app.catalog.models import CdPipeline, Image
from app.catalog.stages import passed_all_stages, passed_images
from app.db import column
from app.deployments.models import (
    ACTIVE_STATUSES,
    Deployment,
    DeploymentApproval,
    DeploymentStatus,
)
from app.errors import ErrorCode
from app.policies.programs import filter_program
from app.promotions.models import PromotionRequest, PromotionStatus
from app.supplychain.variables import images_variables


@dataclass
class Candidate:
    """An image that reached the environment: by the normal path, by promotion, or both."""

    image: Image
    normal_path: bool
    promotion: PromotionRequest | None = None

    @property
    def promoted_only(self) -> bool:
        """Reached by promotion alone: the promotion's rules (approver may deploy) apply."""
        return not self.normal_path and self.promotion is not None

    @classmethod
    def returning(cls, image: Image) -> Candidate:
        """An image a rollback brings back: it SUCCEEDED in the environment before, which
        stands for having reached it. Neither path is asked of it again (so no promotion
        rule either); the environment's other rules (`Target.assess`) still are."""
        return cls(image, normal_path=False, promotion=None)


@dataclass
class Assessment:
    candidate: Candidate | None
    approvals: int
    required: int
    # (code, reason) of every rule the image fails, in SPEC §6's order; empty: deployable.
    failures: list[tuple[ErrorCode, str]] = field(default_factory=list)

    @property
    def deployable(self) -> bool:
        return not self.failures

    @property
    def reasons(self) -> list[str]:
        return [reason for _, reason in self.failures]


def _promoted_to(pipeline: CdPipeline) -> QuerySet[PromotionRequest]:
    return PromotionRequest.filter(
        application_id=pipeline.application_id,
        target_environment_id=pipeline.environment_id,
        status=PromotionStatus.PROMOTED,
    )


async def _promotions_to(pipeline: CdPipeline, image_ids: list[int]) -> dict[int, PromotionRequest]:
    """The PROMOTED requests that brought these images to the pipeline's environment."""
    if not image_ids:
        return {}
    return {r.image_id: r for r in await _promoted_to(pipeline).filter(image_id__in=image_ids)}


async def _normal_images(pipeline: CdPipeline) -> QuerySet[Image]:
    """The images of the normal path: the workflow's, and when the pipeline follows
    another environment, only those that passed every stage there (in SQL)."""
    images = Image.filter(workflow_id=pipeline.workflow_id)
    if pipeline.parent_id is None:
        return images
    return passed_images(images, await CdPipeline.get(id=pipeline.parent_id))


async def candidates(pipeline: CdPipeline, limit: int, before_image: int | None) -> list[Candidate]:
    """Up to `limit` images that may go to the pipeline's environment, newest first,
    below image id `before_image` (None: from the newest): one page of deployableImages.

    The page is the newest `limit` of the normal path's images and the promoted ones
    together. An image promoted there and on the normal path beyond the normal page is
    not mistaken for promoted-only: `limit` newer normal images keep it off the page."""
    normal_rows = await _normal_images(pipeline)
    if before_image is not None:
        normal_rows = normal_rows.filter(id__lt=before_image)
    normal = {i.id: i for i in await normal_rows.order_by("-id").limit(limit)}
    # The newest `limit` promoted images hold every promoted-only image of the page: a
    # bounded read, whatever the environment's history (not every PROMOTED request).
    promoted_rows = _promoted_to(pipeline)
    if before_image is not None:
        promoted_rows = promoted_rows.filter(image_id__lt=before_image)
    promoted = {r.image_id: r for r in await promoted_rows.order_by("-image_id").limit(limit)}
    promoted |= await _promotions_to(pipeline, [i for i in normal if i not in promoted])
    extra = await Image.filter(id__in=[i for i in promoted if i not in normal])
    found = [Candidate(image, True, promoted.get(image.id)) for image in normal.values()]
    found += [Candidate(image, False, promoted[image.id]) for image in extra]
    found.sort(key=lambda c: c.image.id, reverse=True)
    return found[:limit]


async def count_candidates(pipeline: CdPipeline) -> int:
    """How many images deployableImages lists across all its pages."""
    normal = await _normal_images(pipeline)
    promoted = _promoted_to(pipeline)
    # Counted in the database: images on the normal path, plus promoted ones, less those
    # that are both.
    both = await normal.filter(id__in=Subquery(promoted.values("image_id"))).count()
    return await normal.count() + await promoted.count() - both


async def candidate(pipeline: CdPipeline, image: Image) -> Candidate | None:
    """The image as a candidate for the pipeline's environment, or None when it can't go there."""
    normal = image.workflow_id == pipeline.workflow_id
    if normal and pipeline.parent_id is not None:
        parent = await CdPipeline.get(id=pipeline.parent_id)
        normal = await passed_all_stages(image.id, parent)
    promotion = (await _promotions_to(pipeline, [image.id])).get(image.id)
    if not normal and promotion is None:
        return None
    return Candidate(image, normal, promotion)


class Target:
    """An environment's pipeline with what judging images there needs, loaded in two queries."""

    def __init__(
        self,
        pipeline: CdPipeline,
        environment: str,
        approvals: dict[int, int],
        latest: Deployment | None,
    ) -> None:
        self.pipeline = pipeline
        self.environment = environment
        self.approvals = approvals
        self.latest = latest

    @classmethod
    async def load(cls, pipeline: CdPipeline, environment: str, image_ids: list[int]) -> Target:
        approvals: dict[int, int] = {}
        for image_id in await column(
            DeploymentApproval.filter(
                image_id__in=image_ids,
                environment_id=pipeline.environment_id,
            ).values_list("image_id", flat=True),
            int,
        ):
            approvals[image_id] = approvals.get(image_id, 0) + 1
        latest = (
            await Deployment.filter(
                application_id=pipeline.application_id,
                environment_id=pipeline.environment_id,
            )
            .exclude(status=DeploymentStatus.FAILED)
            .order_by("-id")
            .first()
        )
        return cls(pipeline, environment, approvals, latest)

    def _already_there(self, image: Image) -> str | None:
        latest = self.latest
        if latest is None or latest.image_id != image.id:
            return None
        deployment = ids.global_id("Deployment", latest.id)  # the id the API shows
        if latest.status in ACTIVE_STATUSES:
            return f"deployment {deployment} of this image is in progress"
        return f"already running here (deployment {deployment})"

    async def assess_all(
        self, items: list[tuple[Image, Candidate | None]], explain: bool = False
    ) -> list[Assessment]:
        """:meth:`assess` for each (image, candidate), with the filter conditions of all
        of them evaluated in one batch off the event loop (SPEC §3); ``explain``: a
        blocked image's reason names the failed clauses too (one image, not a list)."""
        program = filter_program(self.pipeline)
        reached = [image for image, found in items if found is not None]
        # Without conditions nothing reads the variables; evidence is read only when the
        # conditions name it.
        variables = (
            await images_variables(reached, program.names)
            if not program.empty
            else [{}] * len(reached)
        )
        evaluations = iter(
            await cel.evaluate_many([(program, v) for v in variables], explain=explain)
        )
        return [
            self.assess(image, found, next(evaluations) if found is not None else None)
            for image, found in items
        ]

    def assess(
        self, image: Image, found: Candidate | None, evaluation: cel.Evaluation | None
    ) -> Assessment:
        """The rules of SPEC §6 for one image, each failing one with its code and reason;
        ``evaluation``: the filter conditions' verdict on the image (when it was found)."""
        pipeline = self.pipeline
        approvals = self.approvals.get(image.id, 0)
        result = Assessment(found, approvals, pipeline.deployment_approval_count)
        if found is None:
            result.failures.append(
                (
                    ErrorCode.NOT_DEPLOYABLE,
                    f"the image has not reached {self.environment}: it neither passed the "
                    "previous stage nor was promoted there",
                )
            )
            return result
        if busy := self._already_there(image):
            result.failures.append((ErrorCode.NOT_DEPLOYABLE, busy))
        assert evaluation is not None
        if not evaluation.eligible:
            clauses = "".join(f"; {cel.describe(c)}" for c in evaluation.failed_clauses)
            result.failures.append(
                (
                    ErrorCode.FILTER_BLOCKED,
                    f"blocked by the filter condition of {self.environment}: "
                    f"{evaluation.reason}{clauses}",
                )
            )
        if approvals < pipeline.deployment_approval_count:
            result.failures.append(
                (
                    ErrorCode.DEPLOYMENT_APPROVAL_REQUIRED,
                    f"needs {pipeline.deployment_approval_count} deployment approval(s), "
                    f"has {approvals}",
                )
            )
        return result
