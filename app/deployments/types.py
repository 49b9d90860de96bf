"""GraphQL types of deployments and deployable images."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app import ids
from app.accounts.types import User, load_user
from app.catalog.types import Environment, Image, load_environment, load_image
from app.catalog.visibility import of_visible_applications
from app.deployments import models, repository
from app.deployments.eligibility import Assessment
from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.errors import UserError, error_list
from app.graphql.loaders import rows_by_id
from app.graphql.nodes import visible_nodes
from app.promotions import models as promotions
from app.promotions.types import SourceType, decisions_by_request, promotion_request_by_id

# strawberry.enum registers the GraphQL enum on the class itself (and returns it).
DeploymentStatus = models.DeploymentStatus
strawberry.enum(DeploymentStatus, description="Where a deployment stands.")
describe_values(
    DeploymentStatus,
    {
        DeploymentStatus.QUEUED: "Made; waiting for the deployment executor to take it up.",
        DeploymentStatus.RUNNING: "Handed to the executor: its stages are running, and the "
        "stage results reported move it to SUCCEEDED or FAILED.",
        DeploymentStatus.SUCCEEDED: "The latest run of every stage the CD pipeline has "
        "configured succeeded: the image runs in the environment.",
        DeploymentStatus.FAILED: "A stage failed, or the executor could not hand it over "
        "(error says why): fix the cause and deploy the image again.",
    },
)


@strawberry.type(description="How a promoted image got to the environment.")
class PromotedFrom:
    source_type: SourceType = strawberry.field(
        description="Whether it was promoted from CI or from an environment."
    )
    request_id: strawberry.ID = strawberry.field(
        description="The promotion request that brought it (promotionRequest)."
    )
    row: strawberry.Private[promotions.PromotionRequest]

    @classmethod
    def of(cls, row: promotions.PromotionRequest) -> PromotedFrom:
        return cls(
            source_type=row.source_type,
            request_id=strawberry.ID(ids.global_id("PromotionRequest", row.id)),
            row=row,
        )

    @strawberry.field(description="The environment it was promoted from; null for CI.")
    async def source_environment(self, info: Info) -> str | None:
        env_id = self.row.source_environment_id
        return (await load_environment(info, env_id)).name if env_id else None

    @strawberry.field(description="Who approved the promotion.")
    async def approvers(self, info: Info) -> list[User]:
        decisions = await decisions_by_request(info).load(self.row.id)
        users = [
            await load_user(info, d.user_id)
            for d in decisions
            if d.kind == promotions.DecisionKind.APPROVE
        ]
        return [u for u in users if u is not None]


async def load_promoted_from(info: Info, request_id: int | None) -> PromotedFrom | None:
    if request_id is None:
        return None
    row = await promotion_request_by_id(info).load(request_id)
    return PromotedFrom.of(row) if row else None


@strawberry.type(description="An image that may go to an environment, and why it can't yet.")
class DeployableImage:
    image: Image = strawberry.field(description="The image.")
    deployable: bool = strawberry.field(
        description="Whether the environment's rules let it be deployed now (reasons is then "
        "empty); deployImage may still refuse an approver of its promotion."
    )
    reasons: list[str] = strawberry.field(
        description="Empty when deployable; else every reason it is not."
    )
    deployment_approvals: int = strawberry.field(
        description="Image Deployment Approvals it has for this environment."
    )
    required_deployment_approvals: int = strawberry.field(
        description="Approvals it needs: the CD pipeline's deploymentApprovalCount."
    )
    promotion_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, assessment: Assessment) -> DeployableImage:
        found = assessment.candidate
        assert found is not None
        return cls(
            image=Image.of(found.image),
            deployable=assessment.deployable,
            reasons=assessment.reasons,
            deployment_approvals=assessment.approvals,
            required_deployment_approvals=assessment.required,
            promotion_id=found.promotion.id if found.promoted_only and found.promotion else None,
        )

    @strawberry.field(description="Null when it came by the normal path.")
    async def promoted_from(self, info: Info) -> PromotedFrom | None:
        return await load_promoted_from(info, self.promotion_id)


@strawberry.type(description="The commit the git executor made for a deployment.")
class DeploymentCommit:
    sha: str = strawberry.field(description="The commit's object name (SHA).")
    repository: str = strawberry.field(
        description="The repository it was pushed to, as the CD pipeline's Git target named it."
    )

    @strawberry.field(
        description="A link to the commit on the repository's web forge, when the repository "
        "is an https:// URL (GitHub's, GitLab's, Gitea's and Bitbucket Server's are alike); "
        "null otherwise."
    )
    def url(self) -> str | None:
        return commit_url(self.repository, self.sha)


def commit_url(repository: str, sha: str) -> str | None:
    """The web page of a commit for an https:// repository URL (the forges share the
    `<repository>/commit/<sha>` form); None for ssh://, file:// and paths."""
    if not repository.startswith("https://"):
        return None
    base = repository.rstrip("/").removesuffix(".git")
    return f"{base}/commit/{sha}"


@strawberry.type(description="One deployment of an image to an environment.")
class Deployment(relay.Node):
    id: relay.NodeID[int]
    status: DeploymentStatus = strawberry.field(description="Where it stands now.")
    created_at: datetime = strawberry.field(description="When it was made.")
    error: str | None = strawberry.field(description="Why it failed, when the executor says.")
    row: strawberry.Private[models.Deployment]

    @classmethod
    def of(cls, row: models.Deployment) -> Deployment:
        return cls(
            id=row.id,
            status=row.status,
            created_at=row.created_at,
            error=row.error,
            row=row,
        )

    resolve_nodes = visible_nodes(repository.deployments_by_ids, of_visible_applications)

    @strawberry.field(description="The image deployed.")
    async def image(self, info: Info) -> Image:
        return await load_image(info, self.row.image_id)

    @strawberry.field(description="The environment it is deployed to.")
    async def environment(self, info: Info) -> Environment:
        return await load_environment(info, self.row.environment_id)

    @strawberry.field(description="Who deployed; null when Hoist did (AUTOMATIC trigger).")
    async def deployed_by(self, info: Info) -> User | None:
        return await load_user(info, self.row.deployed_by_id)

    @strawberry.field(description="Null for the normal path.")
    async def promoted_from(self, info: Info) -> PromotedFrom | None:
        return await load_promoted_from(info, self.row.promotion_request_id)

    @strawberry.field(
        description="The commit that carried it, when the CD pipeline deploys through Git "
        "(its gitTarget); null for other executors and before the push."
    )
    def commit(self) -> DeploymentCommit | None:
        if self.row.commit_sha is None or self.row.commit_repository is None:
            return None
        return DeploymentCommit(sha=self.row.commit_sha, repository=self.row.commit_repository)

    @strawberry.field(
        description="When it is a rollback (rollbackDeployment): the deployment it replaced; "
        "the image it brought back is its own image."
    )
    async def rollback_of(self, info: Info) -> Deployment | None:
        if self.row.rollback_of_id is None:
            return None
        found = await deployment_by_id(info).load(self.row.rollback_of_id)
        return Deployment.of(found) if found else None


def deployment_by_id(info: Info) -> DataLoader[int, models.Deployment | None]:
    """Deployments by id (a rollback's rollbackOf): one query for a page of history."""
    return info.context.loaders.get(
        "deployment_by_id", lambda: rows_by_id(repository.deployments_by_ids)
    )


@strawberry.type(description="Whether your Image Deployment Approval was recorded.")
class DeploymentApprovalPayload:
    approved: bool = strawberry.field(
        default=False, description="True when it was; false when errors says why not."
    )
    errors: list[UserError] = error_list(
        "Why it was not: for instance FORBIDDEN (no DEPLOYMENT_APPROVER on the pair), "
        "NOT_DEPLOYABLE (the image has not reached the environment) or CONFLICT (you approved it "
        "already).",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
        ErrorCode.BUILDER_CANNOT_APPROVE,
        ErrorCode.NOT_DEPLOYABLE,
    )


@strawberry.type(description="The deployment made, or why none was.")
class DeploymentPayload:
    deployment: Deployment | None = strawberry.field(
        default=None, description="The deployment, QUEUED; null when errors is not empty."
    )
    errors: list[UserError] = error_list(
        "Why none was made: FORBIDDEN (no BUILD_DEPLOY on the pair), NOT_FOUND, or the first of "
        "NOT_DEPLOYABLE, FILTER_BLOCKED, DEPLOYMENT_APPROVAL_REQUIRED and APPROVER_CANNOT_DEPLOY "
        "that applies; WINDOW_CLOSED while the pair's promotion window is closed (the message "
        "ends with when it opens, as an ISO 8601 UTC time).",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.NOT_DEPLOYABLE,
        ErrorCode.FILTER_BLOCKED,
        ErrorCode.DEPLOYMENT_APPROVAL_REQUIRED,
        ErrorCode.APPROVER_CANNOT_DEPLOY,
        ErrorCode.WINDOW_CLOSED,
    )


@strawberry.type(description="The rollback deployment made, or why none was.")
class RollbackDeploymentPayload:
    deployment: Deployment | None = strawberry.field(
        default=None,
        description="The new deployment, QUEUED, with rollbackOf the deployment it replaces; "
        "null when errors is not empty.",
    )
    errors: list[UserError] = error_list(
        "Why none was made: FORBIDDEN (no BUILD_DEPLOY on the pair), NOT_FOUND, "
        "NOT_ROLLBACKABLE (toImage never SUCCEEDED in the environment, or is the image there "
        "now), WINDOW_CLOSED while the pair's promotion window is closed, or the first of "
        "NOT_DEPLOYABLE (a deployment of the image is under way), FILTER_BLOCKED and "
        "DEPLOYMENT_APPROVAL_REQUIRED that applies.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.NOT_ROLLBACKABLE,
        ErrorCode.WINDOW_CLOSED,
        ErrorCode.NOT_DEPLOYABLE,
        ErrorCode.FILTER_BLOCKED,
        ErrorCode.DEPLOYMENT_APPROVAL_REQUIRED,
    )
