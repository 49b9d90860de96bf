"""GraphQL queries and mutations of deployments: thin doors onto the deployments service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.deployments import service
from app.deployments.types import (
    DeployableImage,
    Deployment,
    DeploymentApprovalPayload,
    DeploymentPayload,
)
from app.graphql.context import Info
from app.graphql.errors import UNSET, mutate, parse_id, unset_to_none
from app.graphql.pagination import After, Connection, First, paginate

_APPLICATION = Annotated[str, strawberry.argument(description="The application's name.")]
_ENVIRONMENT = Annotated[
    str,
    strawberry.argument(
        description="The environment's name; the application's CD pipeline there sets the rules."
    ),
]


@strawberry.type
class Query:
    @strawberry.field(description="Every image that may go to the environment, with reasons.")
    async def deployable_images(
        self, info: Info, application: _APPLICATION, environment: _ENVIRONMENT
    ) -> list[DeployableImage]:
        access = await info.context.access()
        return [
            DeployableImage.of(a)
            for a in await service.deployable_images(access, application, environment)
        ]

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
                access, application, environment, parse_id(image_id, "imageId")
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
                access, application, environment, parse_id(image_id, "imageId")
            )
            return DeploymentPayload(deployment=Deployment.of(deployment))

        return await mutate(run, lambda errors: DeploymentPayload(errors=errors))
