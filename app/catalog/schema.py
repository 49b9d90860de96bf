"""GraphQL queries and mutations of the catalog: thin doors onto the catalog service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app import limits
from app.catalog import git_target, models, service
from app.catalog.repository import get_visible_image
from app.catalog.types import (
    Application,
    CdPipeline,
    Environment,
    GitEdit,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Trigger,
    Workflow,
)
from app.errors import DomainError, ErrorCode, validation
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, parse_id, unset_to_none

_NAME_NOTE = "Lowercase letters, digits and '-'. " + limits.text_note(limits.NAME)
_NEW_NAME = Annotated[str, strawberry.argument(description=_NAME_NOTE)]


@strawberry.input(
    description="Where the git executor commits each deployment (see the GitTarget type)."
)
class GitTargetInput:
    repository: str = strawberry.field(
        description="An https://, ssh:// or file:// URL, or an absolute path on the server; "
        "never with a password or token in it (name a credential). "
        + limits.text_note(limits.GIT_REPO)
    )
    branch: str = strawberry.field(
        description="The branch to commit to. " + limits.text_note(limits.GIT_BRANCH)
    )
    path: str = strawberry.field(
        description="The file to edit, relative to the repository's root. "
        + limits.text_note(limits.GIT_PATH)
    )
    edit: GitEdit = strawberry.field(description="How to edit it.")
    image: str | None = strawberry.field(
        default=UNSET,
        description="KUSTOMIZE (required): the `images:` entry's name. "
        + limits.text_note(limits.IMAGE),
    )
    key: str | None = strawberry.field(
        default=UNSET,
        description="HELM_VALUES (required): a dotted key path, e.g. image.tag. "
        + limits.text_note(limits.GIT_KEY),
    )
    container: str | None = strawberry.field(
        default=UNSET,
        description="MANIFEST (required): the container's name. " + limits.text_note(limits.NAME),
    )
    credential: str | None = strawberry.field(
        default=UNSET,
        description="The name of a file of HOIST_GIT_CREDENTIALS_DIR to fetch and push with. "
        + limits.text_note(limits.NAME),
    )

    def spec(self) -> git_target.GitTarget:
        return git_target.GitTarget(
            repository=self.repository,
            branch=self.branch,
            path=self.path,
            edit=self.edit,
            image=unset_to_none(self.image),
            key=unset_to_none(self.key),
            container=unset_to_none(self.container),
            credential=unset_to_none(self.credential),
        )


@strawberry.input(description="One CD pipeline of a new workflow.")
class CdPipelineInput:
    environment: str = strawberry.field(
        description="The environment it deploys to: one CD pipeline per environment in an "
        "application."
    )
    parent_environment: str | None = strawberry.field(
        default=UNSET,
        description="The environment of the pipeline it follows, in this workflow; "
        "null: it follows CI.",
    )
    pre_stage: bool | None = strawberry.field(
        default=False, description="Give it a pre-deploy stage (PRE)."
    )
    post_stage: bool | None = strawberry.field(
        default=False, description="Give it a post-deploy stage (POST)."
    )
    trigger: Trigger | None = strawberry.field(
        default=models.Trigger.MANUAL, description="How deployments start; default MANUAL."
    )
    deployment_approval_count: int | None = strawberry.field(
        default=0, description="Deployment approvals an image needs there, 0-6; default 0."
    )
    filter_pass_condition: str | None = strawberry.field(
        default=UNSET,
        description="CEL an image must meet to be deployed there; one that does not parse "
        "or type-check is refused (INVALID_CONDITION). " + limits.text_note(limits.CONDITION),
    )
    filter_fail_condition: str | None = strawberry.field(
        default=UNSET,
        description="CEL that keeps an image from being deployed there when true; it wins "
        "over the pass condition. " + limits.text_note(limits.CONDITION),
    )
    git_target: GitTargetInput | None = strawberry.field(
        default=UNSET,
        description="Deploy by committing the image to a Git repository (the git executor); "
        "default: the installation's executor.",
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
            git_target=self.git_target.spec() if self.git_target else None,
        )


@strawberry.input(description="A new workflow and its tree of CD pipelines.")
class CreateWorkflowInput:
    application: str = strawberry.field(description="The application's name.")
    name: str = strawberry.field(description="Unique within the application. " + _NAME_NOTE)
    ci_pipeline: str = strawberry.field(
        description="The name of the CI pipeline that builds its images. "
        + limits.text_note(limits.CI_PIPELINE)
    )
    cd_pipelines: list[CdPipelineInput] = strawberry.field(
        description="Its CD pipelines, in any order; parents must be among them. "
        + limits.list_note()
    )


@strawberry.input(description="A commit an image was built from.")
class GitCommitInput:
    repo: str = strawberry.field(
        description="The repository's URL; required. " + limits.text_note(limits.GIT_REPO)
    )
    branch: str | None = strawberry.field(
        default=UNSET, description="The branch built. " + limits.text_note(limits.GIT_BRANCH)
    )
    commit_hash: str | None = strawberry.field(
        default=UNSET,
        description="The commit's hash. " + limits.text_note(limits.GIT_COMMIT_HASH),
    )
    commit_message: str | None = strawberry.field(
        default=UNSET,
        description="The commit's message. " + limits.text_note(limits.GIT_COMMIT_MESSAGE),
    )
    author: str | None = strawberry.field(
        default=UNSET,
        description="Who wrote it, e.g. 'Name <email>'. " + limits.text_note(limits.GIT_AUTHOR),
    )
    committed_at: datetime | None = strawberry.field(
        default=UNSET,
        description="When it was committed (without a zone: UTC). Delivery insights "
        "measure lead time from the image's newest commit.",
    )

    def spec(self) -> service.GitCommitSpec:
        return service.GitCommitSpec(
            self.repo,
            branch=unset_to_none(self.branch),
            commit_hash=unset_to_none(self.commit_hash),
            commit_message=unset_to_none(self.commit_message),
            author=unset_to_none(self.author),
            committed_at=unset_to_none(self.committed_at),
        )


@strawberry.input(description="An image a workflow's CI pipeline built.")
class RegisterImageInput:
    application: str = strawberry.field(description="The application's name.")
    workflow: str = strawberry.field(description="The name of the workflow that built it.")
    image: str = strawberry.field(
        description="registry/repository:tag or repository@sha256:... "
        + limits.text_note(limits.IMAGE)
    )
    digest: str | None = strawberry.field(
        default=UNSET, description="The image's digest. " + limits.text_note(limits.DIGEST)
    )
    labels: list[str] | None = strawberry.field(
        default_factory=list,
        description="Release tags (imageLabels in conditions). "
        + limits.list_note(item_len=limits.LABEL),
    )
    git_commits: list[GitCommitInput] | None = strawberry.field(
        default_factory=list,
        description="The commits it was built from (gitCommitDetails in conditions). "
        + limits.list_note(),
    )
    built_by: str | None = strawberry.field(
        default=UNSET,
        description="Email of the user who triggered the build; default: you. "
        "Only a CI identity or a super-admin may name someone else (FORBIDDEN otherwise).",
    )


@strawberry.input(description="How one stage of a CD pipeline went for an image.")
class StageResultInput:
    image_id: strawberry.ID = strawberry.field(description="The image's id.")
    environment: str = strawberry.field(
        description="The environment; the image's workflow must have a CD pipeline there."
    )
    stage: Stage = strawberry.field(description="A stage that pipeline has.")
    status: StageStatus = strawberry.field(
        description="The outcome; the latest report of each stage is the one that counts."
    )


@strawberry.type(description="What createApplication did.")
class ApplicationPayload:
    application: Application | None = strawberry.field(
        default=None, description="The new application; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why no application was made.",
        ErrorCode.FORBIDDEN,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type(description="What createEnvironment did.")
class EnvironmentPayload:
    environment: Environment | None = strawberry.field(
        default=None, description="The new environment; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why no environment was made.",
        ErrorCode.FORBIDDEN,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type(description="What createWorkflow did.")
class WorkflowPayload:
    workflow: Workflow | None = strawberry.field(
        default=None, description="The new workflow; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why no workflow was made: every problem found, each naming its field.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_CONDITION,
    )


@strawberry.type(description="What setGitTarget did.")
class CdPipelinePayload:
    cd_pipeline: CdPipeline | None = strawberry.field(
        default=None, description="The CD pipeline as it is now; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why nothing changed: every problem of the target, each naming its field.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
    )


@strawberry.type(description="What registerImage did.")
class ImagePayload:
    image: Image | None = strawberry.field(
        default=None, description="The registered image; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why the image was not registered: every problem found, each naming its field.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type(description="What recordStageResult did.")
class StageRunPayload:
    stage_run: StageRun | None = strawberry.field(
        default=None, description="The recorded stage run; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why nothing was recorded.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The applications you hold a role on, by name.")
    async def applications(self, info: Info) -> list[Application]:
        access = await info.context.access()
        return [Application.of(a) for a in await service.visible_applications(access)]

    @strawberry.field(description="One application; null when unknown or not visible to you.")
    async def application(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="The application's name.")],
    ) -> Application | None:
        access = await info.context.access()
        row = await service.visible_application(access, name)
        return Application.of(row) if row else None

    @strawberry.field(description="Every environment, by name.")
    async def environments(self, info: Info) -> list[Environment]:
        await info.context.access()
        return [Environment.of(e) for e in await service.environments()]

    @strawberry.field(description="One image; null when unknown or not visible to you.")
    async def image(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Its id.")]
    ) -> Image | None:
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
        self,
        info: Info,
        name: _NEW_NAME,
        production: Annotated[
            bool | None,
            strawberry.argument(description="True for a production environment; default false."),
        ] = False,
    ) -> EnvironmentPayload | None:
        access = await info.context.access()

        async def run() -> EnvironmentPayload:
            env = await service.create_environment(access, name, bool(production))
            return EnvironmentPayload(environment=Environment.of(env))

        return await mutate(run, lambda errors: EnvironmentPayload(errors=errors))

    @strawberry.mutation(description="Create a workflow with its CD pipeline tree (super-admins).")
    async def create_workflow(
        self,
        info: Info,
        input: Annotated[
            CreateWorkflowInput, strawberry.argument(description="The workflow and its tree.")
        ],
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

    @strawberry.mutation(
        description="Give a CD pipeline a Git target, so each deployment there is a commit "
        "(the git executor), or take it away with gitTarget: null (super-admins)."
    )
    async def set_git_target(
        self,
        info: Info,
        application: Annotated[str, strawberry.argument(description="The application's name.")],
        environment: Annotated[
            str, strawberry.argument(description="The environment of its CD pipeline.")
        ],
        git_target: Annotated[
            GitTargetInput | None,
            strawberry.argument(
                description="The target; null: none (the installation's executor)."
            ),
        ] = UNSET,
    ) -> CdPipelinePayload | None:
        access = await info.context.access()

        async def run() -> CdPipelinePayload:
            if git_target is UNSET:  # taking a target away is said, never implied
                raise validation("give gitTarget, or gitTarget: null to take it away", "gitTarget")
            pipeline = await service.set_git_target(
                access, application, environment, git_target.spec() if git_target else None
            )
            return CdPipelinePayload(cd_pipeline=CdPipeline.of(pipeline))

        return await mutate(run, lambda errors: CdPipelinePayload(errors=errors))

    @strawberry.mutation(description="Record an image built by a workflow's CI (BUILD_DEPLOY).")
    async def register_image(
        self,
        info: Info,
        input: Annotated[RegisterImageInput, strawberry.argument(description="The image.")],
    ) -> ImagePayload | None:
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
        self,
        info: Info,
        input: Annotated[StageResultInput, strawberry.argument(description="The stage's outcome.")],
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
