"""GraphQL queries and mutations of the catalog: thin doors onto the catalog service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app import limits
from app.catalog import models, service
from app.catalog.repository import get_visible_image
from app.catalog.types import (
    Application,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Trigger,
    Workflow,
)
from app.errors import DomainError
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, mutate, parse_id, unset_to_none

_NAME_NOTE = "Lowercase letters, digits and '-'. " + limits.text_note(limits.NAME)
_NEW_NAME = Annotated[str, strawberry.argument(description=_NAME_NOTE)]


@strawberry.input
class CdPipelineInput:
    environment: str
    parent_environment: str | None = UNSET
    pre_stage: bool | None = False
    post_stage: bool | None = False
    trigger: Trigger | None = models.Trigger.MANUAL
    deployment_approval_count: int | None = 0
    filter_pass_condition: str | None = strawberry.field(
        default=UNSET, description="CEL. " + limits.text_note(limits.CONDITION)
    )
    filter_fail_condition: str | None = strawberry.field(
        default=UNSET, description="CEL. " + limits.text_note(limits.CONDITION)
    )

    def spec(self) -> service.CdPipelineSpec:
        return service.CdPipelineSpec(
            environment=self.environment,
            parent_environment=unset_to_none(self.parent_environment),
            pre_stage=bool(self.pre_stage),
            post_stage=bool(self.post_stage),
            trigger=self.trigger or models.Trigger.MANUAL,
            deployment_approval_count=self.deployment_approval_count or 0,
            filter_pass_condition=unset_to_none(self.filter_pass_condition),
            filter_fail_condition=unset_to_none(self.filter_fail_condition),
        )


@strawberry.input
class CreateWorkflowInput:
    application: str
    name: str = strawberry.field(description=_NAME_NOTE)
    ci_pipeline: str = strawberry.field(description=limits.text_note(limits.CI_PIPELINE))
    cd_pipelines: list[CdPipelineInput] = strawberry.field(description=limits.list_note())


@strawberry.input
class GitCommitInput:
    repo: str = strawberry.field(description=limits.text_note(limits.GIT_REPO))
    branch: str | None = strawberry.field(
        default=UNSET, description=limits.text_note(limits.GIT_BRANCH)
    )
    commit_hash: str | None = strawberry.field(
        default=UNSET, description=limits.text_note(limits.GIT_COMMIT_HASH)
    )
    commit_message: str | None = strawberry.field(
        default=UNSET, description=limits.text_note(limits.GIT_COMMIT_MESSAGE)
    )
    author: str | None = strawberry.field(
        default=UNSET, description=limits.text_note(limits.GIT_AUTHOR)
    )

    def spec(self) -> service.GitCommitSpec:
        return service.GitCommitSpec(
            self.repo,
            *map(unset_to_none, (self.branch, self.commit_hash, self.commit_message, self.author)),
        )


@strawberry.input
class RegisterImageInput:
    application: str
    workflow: str
    image: str = strawberry.field(
        description="registry/repository:tag or repository@sha256:... "
        + limits.text_note(limits.IMAGE)
    )
    digest: str | None = strawberry.field(
        default=UNSET, description=limits.text_note(limits.DIGEST)
    )
    labels: list[str] | None = strawberry.field(
        default_factory=list, description=limits.list_note(item_len=limits.LABEL)
    )
    git_commits: list[GitCommitInput] | None = strawberry.field(
        default_factory=list, description=limits.list_note()
    )
    built_by: str | None = strawberry.field(
        default=UNSET,
        description="Email of the user who triggered the build; default: you. "
        "Only a CI identity or a super-admin may name someone else (FORBIDDEN otherwise).",
    )


@strawberry.input
class StageResultInput:
    image_id: strawberry.ID
    environment: str
    stage: Stage
    status: StageStatus


@strawberry.type
class ApplicationPayload:
    application: Application | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EnvironmentPayload:
    environment: Environment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WorkflowPayload:
    workflow: Workflow | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImagePayload:
    image: Image | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StageRunPayload:
    stage_run: StageRun | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field(description="The applications you hold a role on, by name.")
    async def applications(self, info: Info) -> list[Application]:
        access = await info.context.access()
        return [Application.of(a) for a in await service.visible_applications(access)]

    @strawberry.field(description="One application; null when unknown or not visible to you.")
    async def application(self, info: Info, name: str) -> Application | None:
        access = await info.context.access()
        row = await service.visible_application(access, name)
        return Application.of(row) if row else None

    @strawberry.field(description="Every environment, by name.")
    async def environments(self, info: Info) -> list[Environment]:
        await info.context.access()
        return [Environment.of(e) for e in await service.environments()]

    @strawberry.field(description="One image; null when unknown or not visible to you.")
    async def image(self, info: Info, id: strawberry.ID) -> Image | None:
        access = await info.context.access()
        try:
            return Image.of(await get_visible_image(access, parse_id(id, "id", "Image")))
        except DomainError:
            return None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an application (super-admins only).")
    async def create_application(self, info: Info, name: _NEW_NAME) -> ApplicationPayload | None:
        access = await info.context.access()

        async def run() -> ApplicationPayload:
            return ApplicationPayload(
                application=Application.of(await service.create_application(access, name))
            )

        return await mutate(run, lambda errors: ApplicationPayload(errors=errors))

    @strawberry.mutation(description="Create an environment (super-admins only).")
    async def create_environment(
        self, info: Info, name: _NEW_NAME, production: bool | None = False
    ) -> EnvironmentPayload | None:
        access = await info.context.access()

        async def run() -> EnvironmentPayload:
            env = await service.create_environment(access, name, bool(production))
            return EnvironmentPayload(environment=Environment.of(env))

        return await mutate(run, lambda errors: EnvironmentPayload(errors=errors))

    @strawberry.mutation(description="Create a workflow with its CD pipeline tree (super-admins).")
    async def create_workflow(
        self, info: Info, input: CreateWorkflowInput
    ) -> WorkflowPayload | None:
        access = await info.context.access()

        async def run() -> WorkflowPayload:
            workflow = await service.create_workflow(
                access,
                input.application,
                input.name,
                input.ci_pipeline,
                [p.spec() for p in input.cd_pipelines],
            )
            return WorkflowPayload(workflow=Workflow.of(workflow))

        return await mutate(run, lambda errors: WorkflowPayload(errors=errors))

    @strawberry.mutation(description="Record an image built by a workflow's CI (BUILD_DEPLOY).")
    async def register_image(self, info: Info, input: RegisterImageInput) -> ImagePayload | None:
        access = await info.context.access()

        async def run() -> ImagePayload:
            image = await service.register_image(
                access,
                input.application,
                input.workflow,
                input.image,
                unset_to_none(input.digest),
                list(input.labels or []),
                [c.spec() for c in input.git_commits or []],
                unset_to_none(input.built_by),
            )
            return ImagePayload(image=Image.of(image))

        return await mutate(run, lambda errors: ImagePayload(errors=errors))

    @strawberry.mutation(description="Report a stage's outcome for an image (BUILD_DEPLOY).")
    async def record_stage_result(
        self, info: Info, input: StageResultInput
    ) -> StageRunPayload | None:
        access = await info.context.access()

        async def run() -> StageRunPayload:
            run_row = await service.record_stage_result(
                access,
                parse_id(input.image_id, "imageId", "Image"),
                input.environment,
                input.stage,
                input.status,
            )
            return StageRunPayload(stage_run=StageRun.of(run_row))

        return await mutate(run, lambda errors: StageRunPayload(errors=errors))
