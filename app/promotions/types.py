"""GraphQL types of promotion requests, previews and decisions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.accounts.types import User, load_user
from app.catalog.builders import builders_of
from app.catalog.types import (
    Application,
    Environment,
    Image,
    load_application,
    load_environment,
    load_image,
)
from app.catalog.visibility import of_visible_applications
from app.graphql.context import Info
from app.graphql.errors import UserError
from app.graphql.loaders import load_existing, rows_by_id, rows_grouped
from app.graphql.nodes import resolve_visible
from app.policies.types import PromotionPolicy, load_policy_of_pair, policy_by_id
from app.promotions import models, repository
from app.promotions.approval import approval_blocker, still_governs
from app.promotions.outcomes import DecisionOutcome as DecisionOutcomeEnum
from app.promotions.outcomes import PromoteOutcome as PromoteOutcomeEnum

# strawberry.enum registers the GraphQL enum on the class itself (and returns it): the
# names below are the domain's enums, so they can annotate fields.
SourceType = models.SourceType
PromotionStatus = models.PromotionStatus
PromoteOutcome = PromoteOutcomeEnum
DecisionOutcome = DecisionOutcomeEnum
strawberry.enum(SourceType, description="Where a promoted image comes from.")
strawberry.enum(PromotionStatus, description="The life of a promotion request.")
strawberry.enum(PromoteOutcome, description="What promoting to one target did (SPEC §4).")
strawberry.enum(DecisionOutcome, description="What approving or rejecting one request did.")


@strawberry.type(description="CI, or the environment the image was promoted from.")
class PromotionSource:
    type: SourceType
    environment: str | None


@strawberry.type(description="An approval or rejection: who, when, and what they said.")
class Decision:
    at: datetime
    comment: str | None
    user_id: strawberry.Private[int]

    @strawberry.field
    async def user(self, info: Info) -> User:
        user = await load_user(info, self.user_id)
        assert user is not None
        return user


def decisions_by_request(info: Info) -> DataLoader[int, list[models.PromotionDecision]]:
    return info.context.loaders.get(
        "decisions_by_request",
        lambda: rows_grouped(repository.decisions_of_requests, "request_id"),
    )


def promotion_request_by_id(info: Info) -> DataLoader[int, models.PromotionRequest | None]:
    """Requests by id (deployments' promotedFrom, notifications' request): the one loader."""
    return info.context.loaders.get(
        "promotion_request_by_id", lambda: rows_by_id(repository.requests_by_ids)
    )


@strawberry.type(description="A request to promote one image to one target environment.")
class PromotionRequest(relay.Node):
    id: relay.NodeID[int]
    status: PromotionStatus
    comment: str | None
    policy_version: int = strawberry.field(description="The policy version it was judged under.")
    stale_reason: str | None
    auto_deploy_blocked_reason: str | None = strawberry.field(
        description="Why the AUTOMATIC deployment after promotion was not made."
    )
    created_at: datetime
    promoted_at: datetime | None
    row: strawberry.Private[models.PromotionRequest]

    @classmethod
    def of(cls, row: models.PromotionRequest) -> PromotionRequest:
        return cls(
            id=row.id,
            status=row.status,
            comment=row.comment,
            policy_version=row.policy_version,
            stale_reason=row.stale_reason,
            auto_deploy_blocked_reason=row.auto_deploy_blocked_reason,
            created_at=row.created_at,
            promoted_at=row.promoted_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PromotionRequest | None]:
        return await resolve_visible(
            info, node_ids, repository.requests_by_ids, of_visible_applications, cls.of
        )

    @strawberry.field
    async def image(self, info: Info) -> Image:
        return await load_image(info, self.row.image_id)

    @strawberry.field
    async def application(self, info: Info) -> Application:
        return await load_application(info, self.row.application_id)

    @strawberry.field
    async def source(self, info: Info) -> PromotionSource:
        env_id = self.row.source_environment_id
        name = (await load_environment(info, env_id)).name if env_id else None
        return PromotionSource(type=self.row.source_type, environment=name)

    @strawberry.field
    async def target_environment(self, info: Info) -> Environment:
        return await load_environment(info, self.row.target_environment_id)

    @strawberry.field
    async def requested_by(self, info: Info) -> User:
        user = await load_user(info, self.row.requested_by_id)
        assert user is not None
        return user

    @strawberry.field(description="The policy that made the request (null once deleted).")
    async def policy(self, info: Info) -> PromotionPolicy | None:
        if self.row.policy_id is None:
            return None
        row = await policy_by_id(info).load(self.row.policy_id)
        return PromotionPolicy.of(row) if row else None

    @strawberry.field(description="Approvals needed: the policy's current approverCount.")
    def required_approvals(self) -> int:
        return self.row.required_approvals

    async def _decisions(self, info: Info, kind: models.DecisionKind) -> list[Decision]:
        rows = await decisions_by_request(info).load(self.row.id)
        return [
            Decision(at=d.at, comment=d.comment, user_id=d.user_id) for d in rows if d.kind == kind
        ]

    @strawberry.field
    async def approvals(self, info: Info) -> list[Decision]:
        return await self._decisions(info, models.DecisionKind.APPROVE)

    @strawberry.field
    async def rejection(self, info: Info) -> Decision | None:
        rejections = await self._decisions(info, models.DecisionKind.REJECT)
        return rejections[0] if rejections else None

    async def _approval_blocker(self, info: Info) -> str | None:
        """Why the caller cannot approve now, or None when they can."""
        if self.row.status != models.PromotionStatus.AWAITING_APPROVAL:
            return f"the request is {self.row.status.value}"
        access = await info.context.access()
        current = await load_policy_of_pair(
            info, self.row.application_id, self.row.target_environment_id
        )
        governing_id = int(current.id) if current else None
        if self.row.policy_id is None or not still_governs(self.row, governing_id):
            return f"policy {self.row.policy_name} no longer applies to the target"
        policy = await load_existing(policy_by_id(info), self.row.policy_id)
        image = await load_image(info, self.row.image_id)
        app = await load_application(info, self.row.application_id)
        env = await load_environment(info, self.row.target_environment_id)
        approvals = await self._decisions(info, models.DecisionKind.APPROVE)
        blocker = approval_blocker(
            access,
            application=app.name,
            environment=env.name,
            requested_by_id=self.row.requested_by_id,
            builder_ids=builders_of(image),
            policy=policy,
            approver_ids={d.user_id for d in approvals},
        )
        return blocker[1] if blocker else None

    @strawberry.field(description="Whether you may approve this request now.")
    async def can_approve(self, info: Info) -> bool:
        return await self._approval_blocker(info) is None

    @strawberry.field(description="Why you may not approve it (null when you may).")
    async def cannot_approve_reason(self, info: Info) -> str | None:
        return await self._approval_blocker(info)


@strawberry.type(description="A workflow environment you can promote to, with its policy.")
class PromotionTarget:
    environment: Environment
    policy: PromotionPolicy


@strawberry.type(description="One CEL condition's result for the image.")
class ConditionResult:
    expression: str
    result: bool | None
    error: str | None

    @classmethod
    def of(cls, result: Any) -> ConditionResult | None:
        if result is None:
            return None
        return cls(expression=result.expression, result=result.result, error=result.error)


@strawberry.type(description="What promoting to one target would do; nothing is written.")
class PromotionPreview:
    environment: str
    outcome: PromoteOutcome
    message: str
    pass_condition: ConditionResult | None
    fail_condition: ConditionResult | None
    required_approvals: int | None
    eligible_approvers: list[User]


@strawberry.type
class PromoteResult:
    environment: str
    outcome: PromoteOutcome
    message: str
    request: PromotionRequest | None


@strawberry.type
class PromoteImagePayload:
    results: list[PromoteResult] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DecisionResult:
    request_id: strawberry.ID
    outcome: DecisionOutcome
    message: str
    request: PromotionRequest | None


@strawberry.type
class DecisionPayload:
    results: list[DecisionResult] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
