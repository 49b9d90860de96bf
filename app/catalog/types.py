"""GraphQL types of the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.accounts.types import User, load_user
from app.catalog import git_target, models, repository, visibility
from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.loaders import load_existing, rows_by_id, rows_grouped
from app.graphql.nodes import everyone, visible_nodes
from app.images import split_reference

if TYPE_CHECKING:
    from app.policies.types import PromotionPolicy
    from app.supplychain.types import ImageEvidence

# strawberry.enum registers the GraphQL enum on the class itself (and returns it): the
# names below are the model enums, so they can annotate fields.
Trigger = models.Trigger
Stage = models.Stage
StageStatus = models.StageStatus
strawberry.enum(Trigger, description="How a CD pipeline starts.")
strawberry.enum(Stage, description="A stage of a CD pipeline.")
strawberry.enum(StageStatus, description="The outcome of a stage run.")
describe_values(
    Trigger,
    {
        Trigger.AUTOMATIC: "Hoist itself deploys each image that reaches the environment "
        "(built by CI, passed the previous stage, or promoted there) when the deploy checks "
        "allow it.",
        Trigger.MANUAL: "A user with BUILD_DEPLOY deploys an image there (deployImage).",
    },
)
GitEdit = git_target.GitEdit
strawberry.enum(GitEdit, description="How the git executor writes the image into the file.")
describe_values(
    GitEdit,
    {
        GitEdit.KUSTOMIZE: "Set the `images:` entry named `image` of a kustomization.yaml "
        "(newName and newTag, or digest for an image referenced by digest).",
        GitEdit.HELM_VALUES: "Set the value at the dotted `key` (e.g. image.tag) of a Helm "
        "values file to the image's tag (its digest when it has no tag).",
        GitEdit.MANIFEST: "Set `image:` of the container named `container` in a Kubernetes "
        "manifest (every document of the file) to the image's full reference.",
    },
)
describe_values(
    Stage,
    {
        Stage.PRE: "The pre-deploy stage, for a CD pipeline with preStage.",
        Stage.DEPLOY: "The deployment itself; every CD pipeline has it.",
        Stage.POST: "The post-deploy stage, for a CD pipeline with postStage.",
    },
)
describe_values(
    StageStatus,
    {
        StageStatus.RUNNING: "Started, not finished.",
        StageStatus.SUCCEEDED: "Finished well. Once the latest run of every stage of the "
        "pipeline succeeded, the image passed the environment.",
        StageStatus.FAILED: "Finished badly: the image has not passed the environment until "
        "a later run of the stage succeeds.",
    },
)


def environment_by_id(info: Info) -> DataLoader[int, models.Environment | None]:
    return info.context.loaders.get(
        "environment_by_id", lambda: rows_by_id(repository.environments_by_ids)
    )


def application_by_id(info: Info) -> DataLoader[int, models.Application | None]:
    return info.context.loaders.get(
        "application_by_id", lambda: rows_by_id(repository.applications_by_ids)
    )


def workflow_by_id(info: Info) -> DataLoader[int, models.Workflow | None]:
    return info.context.loaders.get(
        "workflow_by_id", lambda: rows_by_id(repository.workflows_by_ids)
    )


def image_by_id(info: Info) -> DataLoader[int, models.Image | None]:
    return info.context.loaders.get("image_by_id", lambda: rows_by_id(repository.images_by_ids))


@strawberry.type(description="A place images are deployed to (dev, staging, prod...).")
class Environment(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique: lowercase letters, digits and '-'.")
    production: bool = strawberry.field(description="True for a production environment.")

    @classmethod
    def of(cls, row: models.Environment) -> Environment:
        return cls(id=row.id, name=row.name, production=row.production)

    resolve_nodes = visible_nodes(repository.environments_by_ids, everyone)


async def load_environment(info: Info, environment_id: int) -> Environment:
    return Environment.of(await load_existing(environment_by_id(info), environment_id))


@strawberry.type(description="A deployable thing with its workflows.")
class Application(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique: lowercase letters, digits and '-'.")

    @classmethod
    def of(cls, row: models.Application) -> Application:
        return cls(id=row.id, name=row.name)

    resolve_nodes = visible_nodes(repository.applications_by_ids, visibility.visible_applications)

    @strawberry.field(description="The application's workflows, oldest first.")
    async def workflows(self, info: Info) -> list[Workflow]:
        loader = info.context.loaders.get(
            "workflows_by_application",
            lambda: rows_grouped(repository.workflows_of_applications, "application_id"),
        )
        return [Workflow.of(w) for w in await loader.load(self.id)]


async def load_application(info: Info, application_id: int) -> Application:
    return Application.of(await load_existing(application_by_id(info), application_id))


@strawberry.type(description="A CI pipeline and the tree of CD pipelines its images go through.")
class Workflow(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique within its application.")
    ci_pipeline: str = strawberry.field(
        description="The name of the CI pipeline that builds its images."
    )

    @classmethod
    def of(cls, row: models.Workflow) -> Workflow:
        return cls(id=row.id, name=row.name, ci_pipeline=row.ci_pipeline)

    resolve_nodes = visible_nodes(repository.workflows_by_ids, visibility.of_visible_applications)

    @strawberry.field(description="CD pipelines in tree order: every parent before its children.")
    async def cd_pipelines(self, info: Info) -> list[CdPipeline]:
        loader = info.context.loaders.get(
            "cd_pipelines_by_workflow",
            lambda: rows_grouped(repository.pipelines_of_workflows, "workflow_id"),
        )
        return [CdPipeline.of(p) for p in await loader.load(self.id)]


async def load_workflow(info: Info, workflow_id: int) -> Workflow:
    return Workflow.of(await load_existing(workflow_by_id(info), workflow_id))


@strawberry.type(
    description="Where the git executor commits each deployment of a CD pipeline, for a "
    "GitOps tool (Argo CD, Flux) to deploy. Holds no secret: credential names one the "
    "server reads from HOIST_GIT_CREDENTIALS_DIR."
)
class GitTarget:
    repository: str = strawberry.field(
        description="The repository: an https://, ssh:// or file:// URL, or a path on the server."
    )
    branch: str = strawberry.field(description="The branch committed to.")
    path: str = strawberry.field(description="The file edited, inside the repository.")
    edit: GitEdit = strawberry.field(description="How the file is edited.")
    image: str | None = strawberry.field(
        description="KUSTOMIZE: the name of the `images:` entry set."
    )
    key: str | None = strawberry.field(description="HELM_VALUES: the dotted key path set.")
    container: str | None = strawberry.field(
        description="MANIFEST: the name of the container whose image is set."
    )
    credential: str | None = strawberry.field(
        description="The name of the credential used to fetch and push (a file of "
        "HOIST_GIT_CREDENTIALS_DIR); null: none (a local or public repository, or ssh "
        "keys of the server's own)."
    )

    @classmethod
    def of(cls, target: git_target.GitTarget) -> GitTarget:
        return cls(
            repository=target.repository,
            branch=target.branch,
            path=target.path,
            edit=target.edit,
            image=target.image,
            key=target.key,
            container=target.container,
            credential=target.credential,
        )


def _git_target(row: models.CdPipeline) -> GitTarget | None:
    target = git_target.GitTarget.from_json(row.git_target)
    return GitTarget.of(target) if target else None


@strawberry.type(description="How one environment of a workflow receives images.")
class CdPipeline(relay.Node):
    id: relay.NodeID[int]
    pre_stage: bool = strawberry.field(description="True when it has a pre-deploy stage (PRE).")
    post_stage: bool = strawberry.field(description="True when it has a post-deploy stage (POST).")
    trigger: Trigger = strawberry.field(description="How deployments here start.")
    deployment_approval_count: int = strawberry.field(
        description="How many deployment approvals an image needs before it may be "
        "deployed here (0-6)."
    )
    filter_pass_condition: str | None = strawberry.field(
        description="CEL an image must meet to be deployed here; null: every image does."
    )
    filter_fail_condition: str | None = strawberry.field(
        description="CEL that keeps an image from being deployed here when true; it wins "
        "over the pass condition. Null: none."
    )
    git_target: GitTarget | None = strawberry.field(
        description="Where its deployments are committed (the git executor); null: the "
        "installation's executor (HOIST_DEPLOY_EXECUTOR)."
    )
    environment_id: strawberry.Private[int]
    application_id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: models.CdPipeline) -> CdPipeline:
        return cls(
            id=row.id,
            pre_stage=row.pre_stage,
            post_stage=row.post_stage,
            trigger=row.trigger,
            deployment_approval_count=row.deployment_approval_count,
            filter_pass_condition=row.filter_pass_condition,
            filter_fail_condition=row.filter_fail_condition,
            git_target=_git_target(row),
            environment_id=row.environment_id,
            application_id=row.application_id,
            parent_id=row.parent_id,
        )

    resolve_nodes = visible_nodes(repository.pipelines_by_ids, visibility.of_visible_applications)

    @strawberry.field(description="The environment it deploys to.")
    async def environment(self, info: Info) -> Environment:
        return await load_environment(info, self.environment_id)

    @strawberry.field(description="The environment this pipeline follows; null: it follows CI.")
    async def parent_environment(self, info: Info) -> Environment | None:
        if self.parent_id is None:
            return None
        loader = info.context.loaders.get(
            "cd_pipeline_by_id", lambda: rows_by_id(repository.pipelines_by_ids)
        )
        parent = await load_existing(loader, self.parent_id)
        return await load_environment(info, parent.environment_id)

    @strawberry.field(description="The promotion policy applied to this application+environment.")
    async def policy(
        self, info: Info
    ) -> Annotated[PromotionPolicy, strawberry.lazy("app.policies.types")] | None:
        # The policies sit a layer above the catalog: their loader comes through a port.
        policy: PromotionPolicy | None = await info.context.ports.policy_of_pair(
            info, self.application_id, self.environment_id
        )
        return policy


def _parsed(moment: str | None) -> datetime | None:
    return None if moment is None else datetime.fromisoformat(moment)


@strawberry.type(description="A commit an image was built from.")
class GitCommit:
    repo: str = strawberry.field(description="The repository's URL.")
    branch: str | None = strawberry.field(description="The branch built.")
    commit_hash: str | None = strawberry.field(description="The commit's hash.")
    commit_message: str | None = strawberry.field(description="The commit's message.")
    author: str | None = strawberry.field(description="Who wrote it, e.g. 'Name <email>'.")
    committed_at: datetime | None = strawberry.field(
        description="When it was committed, when CI said."
    )


@strawberry.type(description="A container image built by a workflow's CI pipeline.")
class Image(relay.Node):
    id: relay.NodeID[int]
    image: str = strawberry.field(
        description="The full reference: registry/repository:tag, or repository@digest."
    )
    digest: str | None = strawberry.field(description="The image's digest, when CI sent one.")
    labels: list[str] = strawberry.field(
        description="Release tags CI attached (imageLabels in conditions)."
    )
    created_at: datetime = strawberry.field(description="When it was registered.")
    git_commit_rows: strawberry.Private[list[dict[str, str | None]]]
    built_by_id: strawberry.Private[int | None]
    registered_by_id: strawberry.Private[int | None]
    registered_by_ci: strawberry.Private[bool]
    application_id: strawberry.Private[int]
    workflow_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.Image) -> Image:
        return cls(
            id=row.id,
            image=row.image,
            digest=row.digest,
            labels=list(row.labels),
            created_at=row.created_at,
            git_commit_rows=list(row.git_commits),
            built_by_id=row.built_by_id,
            registered_by_id=row.registered_by_id,
            registered_by_ci=row.registered_by_ci,
            application_id=row.application_id,
            workflow_id=row.workflow_id,
        )

    resolve_nodes = visible_nodes(repository.images_by_ids, visibility.of_visible_applications)

    @strawberry.field(description="Everything before the tag (or the digest).")
    def repository(self) -> str:
        return split_reference(self.image)[0]

    @strawberry.field(description="The tag; empty for an image referenced by digest only.")
    def tag(self) -> str:
        return split_reference(self.image)[1]

    @strawberry.field(description="The commits it was built from (gitCommitDetails in conditions).")
    def git_commits(self) -> list[GitCommit]:
        return [
            GitCommit(
                repo=c["repo"] or "",
                branch=c.get("branch"),
                commit_hash=c.get("commitHash"),
                commit_message=c.get("commitMessage"),
                author=c.get("author"),
                committed_at=_parsed(c.get("committedAt")),
            )
            for c in self.git_commit_rows
        ]

    @strawberry.field(description="The user who triggered the build.")
    async def built_by(self, info: Info) -> User | None:
        return await load_user(info, self.built_by_id)

    @strawberry.field(
        description="The user who registered the image (null: Hoist itself, or "
        "an image registered before this was recorded). Unless it is a CI "
        "identity, it counts as a builder for the separation-of-duty flags."
    )
    async def registered_by(self, info: Info) -> User | None:
        return await load_user(info, self.registered_by_id)

    @strawberry.field(description="The application it belongs to.")
    async def application(self, info: Info) -> Application:
        return await load_application(info, self.application_id)

    @strawberry.field(description="The workflow whose CI pipeline built it.")
    async def workflow(self, info: Info) -> Workflow:
        return await load_workflow(info, self.workflow_id)

    @strawberry.field(
        description="Its signatures, newest vulnerability report, provenance and SBOM "
        "(what the evidence variables of conditions see)."
    )
    async def evidence(
        self, info: Info
    ) -> Annotated[ImageEvidence, strawberry.lazy("app.supplychain.types")]:
        # The supply-chain domain sits a layer above the catalog: its loader is a port.
        evidence: ImageEvidence = await info.context.ports.evidence_of_image(info, self.id)
        return evidence


async def load_image(info: Info, image_id: int) -> Image:
    return Image.of(await load_existing(image_by_id(info), image_id))


@strawberry.type(description="The reported outcome of one stage of a CD pipeline for an image.")
class StageRun(relay.Node):
    id: relay.NodeID[int]
    stage: Stage = strawberry.field(description="Which stage ran.")
    status: StageStatus = strawberry.field(description="How it went.")
    environment_id: strawberry.Private[int]
    image_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.StageRun) -> StageRun:
        return cls(
            id=row.id,
            stage=row.stage,
            status=row.status,
            environment_id=row.environment_id,
            image_id=row.image_id,
        )

    resolve_nodes = visible_nodes(repository.stage_runs_by_ids, visibility.visible_stage_runs)

    @strawberry.field(description="The environment whose CD pipeline ran the stage.")
    async def environment(self, info: Info) -> Environment:
        return await load_environment(info, self.environment_id)

    @strawberry.field(description="The image it ran for.")
    async def image(self, info: Info) -> Image:
        return await load_image(info, self.image_id)
