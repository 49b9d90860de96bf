"""GraphQL queries and mutations of deployments: thin doors onto the deployments service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.deployments import rollback, service
from app.deployments.eligibility import Assessment
from app.deployments.types import (
    DeployableImage,
    Deployment,
    DeploymentApprovalPayload,
    DeploymentPayload,
    RollbackDeploymentPayload,
)
from app.graphql.context import Info
from app.graphql.errors import UNSET, mutate, parse_id, unset_to_none
from app.graphql.pagination import (
    After,
    Connection,
    First,
    after_id,
    connection,
    page_size,
    paginate,
)

_APPLICATION = Annotated[str, strawberry.argument(description="The application's name.")]
_ENVIRONMENT = Annotated[
    str,
    strawberry.argument(
        description="The environment's name; the application's CD pipeline there sets the rules."
    ),
]


def _image_id(assessment: Assessment) -> int:
    """The cursor key of a deployableImages row: its image (listed rows have one)."""
    assert assessment.candidate is not None
    return assessment.candidate.image.id


@strawberry.type
class Query:
    @strawberry.field(
        description="The images that may go to the environment, newest first, each "
        "deployable or not with every reason why not."
    )
    async def deployable_images(
        self,
        info: Info,
        application: _APPLICATION,
        environment: _ENVIRONMENT,
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[DeployableImage]:
        access = await info.context.access()
        after = unset_to_none(after)
        page = await service.deployable_images(
            access, application, environment, page_size(first), after_id(after)
        )
        return connection(
            page.assessments,
            key=_image_id,
            convert=DeployableImage.of,
            has_next=page.has_next,
            after=after,
            count=page.total,
        )

    @strawberry.field(description="Deployments newest first, with where promoted images came from.")
    async def deployment_history(
        self,
        info: Info,
        application: _APPLICATION,
        environment: Annotated[
            str | None,
            strawberry.argument(description="Only deployments to this environment; left out: all."),
        ] = UNSET,
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[Deployment]:
        access = await info.context.access()
        rows = service.deployment_history(access, application, unset_to_none(environment))
        return await paginate(rows, first, unset_to_none(after), Deployment.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Give an Image Deployment Approval (DEPLOYMENT_APPROVER).")
    async def approve_deployment(
        self,
        info: Info,
        application: _APPLICATION,
        environment: _ENVIRONMENT,
        image_id: Annotated[
            strawberry.ID, strawberry.argument(description="The image to approve.")
        ],
    ) -> DeploymentApprovalPayload | None:
        access = await info.context.access()

        async def run() -> DeploymentApprovalPayload:
            await service.approve_deployment(
                access, application, environment, parse_id(image_id, "imageId", "Image")
            )
            return DeploymentApprovalPayload(approved=True)

        return await mutate(run, lambda errors: DeploymentApprovalPayload(errors=errors))

    @strawberry.mutation(description="Deploy an image to an environment (BUILD_DEPLOY).")
    async def deploy_image(
        self,
        info: Info,
        application: _APPLICATION,
        environment: _ENVIRONMENT,
        image_id: Annotated[strawberry.ID, strawberry.argument(description="The image to deploy.")],
    ) -> DeploymentPayload | None:
        access = await info.context.access()

        async def run() -> DeploymentPayload:
            deployment = await service.deploy_image(
                access, application, environment, parse_id(image_id, "imageId", "Image")
            )
            return DeploymentPayload(deployment=Deployment.of(deployment))

        return await mutate(run, lambda errors: DeploymentPayload(errors=errors))

    @strawberry.mutation(
        description="Roll back: deploy again an image that SUCCEEDED in the environment "
        "before, in place of the one there now (BUILD_DEPLOY). The environment's filter "
        "conditions, deployment approvals and promotion window apply; promotion policy and "
        "the normal path do not (the image was there already). The requester of the "
        "promotion that brought the replaced image is emailed."
    )
    async def rollback_deployment(
        self,
        info: Info,
        application: _APPLICATION,
        environment: _ENVIRONMENT,
        to_image: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The image to bring back: one that SUCCEEDED in the environment "
                "before and is not the one there now."
            ),
        ],
    ) -> RollbackDeploymentPayload | None:
        access = await info.context.access()

        async def run() -> RollbackDeploymentPayload:
            deployment = await rollback.rollback_deployment(
                access, application, environment, parse_id(to_image, "toImage", "Image")
            )
            return RollbackDeploymentPayload(deployment=Deployment.of(deployment))

        return await mutate(run, lambda errors: RollbackDeploymentPayload(errors=errors))
