"""GraphQL types of promotion requests, previews and decisions."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app import clock
from app.accounts.types import User, load_user
from app.attestation.types import PromotionAttestation, attestation_by_request
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
from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.errors import UserError, error_list
from app.graphql.loaders import load_existing, rows_by_id, rows_grouped
from app.graphql.nodes import visible_nodes
from app.policies.types import PromotionPolicy, load_policy_of_pair, policy_by_id
from app.promotions import models, repository
from app.promotions.approval import approval_blocker, counting_approvers, still_governs
from app.promotions.outcomes import DecisionOutcome as DecisionOutcomeEnum
from app.promotions.outcomes import PromoteOutcome as PromoteOutcomeEnum
from app.windows import service as windows
from app.windows.calendar import WindowState
from app.windows.types import PromotionWindowState

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
describe_values(
    SourceType,
    {
        SourceType.CI: "The image as its workflow's CI pipeline built it.",
        SourceType.ENVIRONMENT: "An environment of the image's workflow where the image "
        "passed all stages.",
    },
)
describe_values(
    PromotionStatus,
    {
        PromotionStatus.AWAITING_APPROVAL: "Waiting for the policy's approvals; the "
        "approvers were emailed. Next: PROMOTING once it has enough, or REJECTED, CANCELLED "
        "or STALE.",
        PromotionStatus.PROMOTING: "Approved, or no approval needed: a worker is promoting "
        "it. Next: PROMOTED, or STALE if its policy no longer applies to the target.",
        PromotionStatus.PROMOTED: "Done: the image is among those deployable to the target "
        "(an AUTOMATIC target deploys it at once) and the requester is emailed. Final.",
        PromotionStatus.CANCELLED: "Withdrawn by the requester or a super-admin while it "
        "awaited approval. Final; the image may be requested for the target again.",
        PromotionStatus.REJECTED: "Refused by an approver, with a reason; the requester is "
        "emailed. Final; the image may be requested for the target again.",
        PromotionStatus.STALE: "Can no longer be approved or promoted: its policy was "
        "deleted, replaced or taken off the target, or changed so the image no longer meets "
        "it (staleReason says which); the requester is emailed. Final; request again to be "
        "judged under the current policy.",
        PromotionStatus.QUEUED: "Approved, or needing no approval, while the target's "
        "promotion window is closed: it is promoted, in request order, once the window "
        "opens. Next: PROMOTING, or STALE.",
        PromotionStatus.EXPIRED: "Still awaiting approval when its policy's requestTimeout "
        "ran out (expiresAt); the requester is emailed and its email links stop working. "
        "Final; the image may be requested for the target again.",
    },
)
describe_values(
    PromoteOutcome,
    {
        PromoteOutcome.PROMOTING: "A request was made and needs no approval (approverCount "
        "0): a worker promotes the image now.",
        PromoteOutcome.AWAITING_APPROVAL: "A request was made and waits for the policy's "
        "approvals; the approvers were emailed.",
        PromoteOutcome.QUEUED: "A request was made and needs no approval, but the target's "
        "promotion window is closed (the message says when it opens): the request is QUEUED "
        "and promoted once the window opens. To go through now, promote with breakGlass.",
        PromoteOutcome.NOT_IN_WORKFLOW: "The target has no CD pipeline in the image's "
        "workflow: pick one of the workflow's environments (promotionTargets).",
        PromoteOutcome.NOT_PASSED_AT_SOURCE: "The image has not passed all stages of the "
        "source environment: pick a source it passed, or CI.",
        PromoteOutcome.SAME_AS_SOURCE: "The target is the source environment: pick an "
        "environment after it.",
        PromoteOutcome.ORDER_MISMATCH: "The target does not come after the source in the "
        "workflow's pipeline tree: promote only downstream of the source, or from CI.",
        PromoteOutcome.FORBIDDEN: "You lack BUILD_DEPLOY on the application and target: ask "
        "a super-admin for the role.",
        PromoteOutcome.POLICY_NOT_CONFIGURED: "No promotion policy applies to the "
        "application and target: a super-admin must apply one first.",
        PromoteOutcome.ALREADY_REQUESTED: "A request for this image and target already "
        "awaits approval (the message names it): wait for its approvers, or cancel it (if it "
        "is yours) and request again.",
        PromoteOutcome.ALREADY_PROMOTED: "A request already promoted (or is promoting) this "
        "image to the target: once PROMOTED, deploy it there (deployableImages).",
        PromoteOutcome.ALREADY_AT_TARGET: "The image already passed all stages of the "
        "target: there is nothing to promote.",
        PromoteOutcome.BLOCKED_BY_POLICY: "The image does not meet the policy's conditions, "
        "or evaluating one failed (the message says which): pick an image that meets them, "
        "or ask a super-admin to change the policy.",
    },
)
describe_values(
    DecisionOutcome,
    {
        DecisionOutcome.APPROVED: "Your approval is recorded; the request needs more before "
        "it is promoted (the message says how many of how many).",
        DecisionOutcome.PROMOTING: "Your approval was the last one needed: the request is "
        "PROMOTING and a worker promotes the image.",
        DecisionOutcome.QUEUED: "Your approval was the last one needed, but the target's "
        "promotion window is closed: the request is QUEUED and promoted once it opens (the "
        "message says when).",
        DecisionOutcome.REJECTED: "The request is REJECTED; the requester is emailed your reason.",
        DecisionOutcome.NOT_FOUND: "No request has this id, or you cannot see its "
        "application: check the id.",
        DecisionOutcome.NOT_PENDING: "The request no longer awaits approval (the message "
        "gives its state): nothing is left to decide.",
        DecisionOutcome.FORBIDDEN: "You lack ARTIFACT_PROMOTER on the request's application "
        "and target: ask a super-admin for the role.",
        DecisionOutcome.STALE: "The policy that made the request no longer applies to its "
        "target, so the request has just turned STALE: the requester must request again.",
        DecisionOutcome.REQUESTER_CANNOT_APPROVE: "You raised the request and its policy "
        "(allowRequestFromApprove) does not let you decide on it, even as a super-admin: "
        "another approver must, or you cancel it.",
        DecisionOutcome.BUILDER_CANNOT_APPROVE: "You built the image and the policy "
        "(allowImageBuilderFromApprove) does not let you decide on it, even as a super-admin: "
        "another approver must.",
        DecisionOutcome.ALREADY_APPROVED: "You approved this request before; each approver "
        "counts once.",
    },
)


@strawberry.type(description="CI, or the environment the image was promoted from.")
class PromotionSource:
    type: SourceType = strawberry.field(description="CI, or an environment.")
    environment: str | None = strawberry.field(
        description="The source environment's name; null for CI."
    )


@strawberry.type(description="An approval or rejection: who, when, and what they said.")
class Decision:
    at: datetime = strawberry.field(description="When it was given.")
    comment: str | None = strawberry.field(
        description="The approver's comment, or the rejection's reason."
    )
    counts: bool = strawberry.field(
        default=True,
        description="Whether this approval still counts towards the quorum: false once it "
        "is older than the policy's approvalMaxAge (its approver may approve again). "
        "Always true for a rejection.",
    )
    user_id: strawberry.Private[int]

    @strawberry.field(description="Who gave it.")
    async def user(self, info: Info) -> User:
        user = await load_user(info, self.user_id)
        assert user is not None
        return user


def decisions_by_request(info: Info) -> DataLoader[int, list[models.PromotionDecision]]:
    return info.context.loaders.get(
        "decisions_by_request",
        lambda: rows_grouped(repository.decisions_of_requests, "request_id"),
    )


def window_by_pair(info: Info) -> DataLoader[tuple[int, int], WindowState]:
    """Promotion window states by (application id, environment id), now."""

    async def load(keys: list[tuple[int, int]]) -> list[WindowState]:
        states = await windows.states_of_pairs(keys)
        return [states[k] for k in keys]

    return info.context.loaders.get("window_by_pair", lambda: DataLoader(load_fn=load))


def promotion_request_by_id(info: Info) -> DataLoader[int, models.PromotionRequest | None]:
    """Requests by id (deployments' promotedFrom, notifications' request): the one loader."""
    return info.context.loaders.get(
        "promotion_request_by_id", lambda: rows_by_id(repository.requests_by_ids)
    )


@strawberry.type(description="A request to promote one image to one target environment.")
class PromotionRequest(relay.Node):
    id: relay.NodeID[int]
    status: PromotionStatus = strawberry.field(description="Where the request stands now.")
    comment: str | None = strawberry.field(description="The requester's comment.")
    policy_version: int = strawberry.field(description="The policy version it was judged under.")
    stale_reason: str | None = strawberry.field(
        description="Why it turned STALE; null unless it did."
    )
    auto_deploy_blocked_reason: str | None = strawberry.field(
        description="Why the AUTOMATIC deployment after promotion was not made."
    )
    created_at: datetime = strawberry.field(description="When it was requested.")
    promoted_at: datetime | None = strawberry.field(
        description="When it was PROMOTED; null until then."
    )
    expires_at: datetime | None = strawberry.field(
        description="When it turns EXPIRED if still awaiting approval (its policy's "
        "requestTimeout from when it was made); null: no time limit."
    )
    reminders_sent: int = strawberry.field(
        description="Reminder emails sent to its undecided approvers so far (remindAfter)."
    )
    next_reminder_at: datetime | None = strawberry.field(
        description="When the next reminder is due; null: none (more)."
    )
    break_glass_reason: str | None = strawberry.field(
        default=None,
        description="Why the requester broke glass: the request goes through a closed "
        "promotion window once it has the policy's breakGlassApproverCount approvals on top "
        "of its approverCount. Null: an ordinary request.",
    )
    warnings: list[ClauseResult] = strawberry.field(
        default_factory=list,
        description="The failed clauses of a WARN policy's conditions the request went ahead "
        "with (they are in its approval emails and the audit log too); empty: none.",
    )
    row: strawberry.Private[models.PromotionRequest]
    # canApprove and cannotApproveReason read one evaluation of the blocker: the first of
    # them to run starts it, the other awaits the same task (they resolve concurrently).
    blocker: strawberry.Private[asyncio.Task[str | None] | None] = None

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
            expires_at=row.expires_at,
            reminders_sent=row.reminders_sent,
            next_reminder_at=row.next_reminder_at,
            break_glass_reason=row.break_glass_reason,
            warnings=[ClauseResult.of(w) for w in row.warnings or []],
            row=row,
        )

    resolve_nodes = visible_nodes(repository.requests_by_ids, of_visible_applications)

    @strawberry.field(description="The image it promotes.")
    async def image(self, info: Info) -> Image:
        return await load_image(info, self.row.image_id)

    @strawberry.field(description="The image's application.")
    async def application(self, info: Info) -> Application:
        return await load_application(info, self.row.application_id)

    @strawberry.field(description="Where the image is promoted from.")
    async def source(self, info: Info) -> PromotionSource:
        env_id = self.row.source_environment_id
        name = (await load_environment(info, env_id)).name if env_id else None
        return PromotionSource(type=self.row.source_type, environment=name)

    @strawberry.field(description="The environment the image is promoted to.")
    async def target_environment(self, info: Info) -> Environment:
        return await load_environment(info, self.row.target_environment_id)

    @strawberry.field(description="Who asked for the promotion.")
    async def requested_by(self, info: Info) -> User:
        user = await load_user(info, self.row.requested_by_id)
        assert user is not None
        return user

    @strawberry.field(
        description="The signed record of the promotion (an in-toto statement in a DSSE "
        "envelope), written when the request turned PROMOTED; null before that."
    )
    async def attestation(self, info: Info) -> PromotionAttestation | None:
        row = await attestation_by_request(info).load(self.row.id)
        return PromotionAttestation.of(row) if row else None

    @strawberry.field(description="The policy that made the request (null once deleted).")
    async def policy(self, info: Info) -> PromotionPolicy | None:
        if self.row.policy_id is None:
            return None
        row = await policy_by_id(info).load(self.row.policy_id)
        return PromotionPolicy.of(row) if row else None

    @strawberry.field(
        description="Approvals needed: the policy's current approverCount (with its "
        "breakGlassApproverCount on top for a break-glass request)."
    )
    def required_approvals(self) -> int:
        return self.row.required_approvals

    @strawberry.field(
        description="The target pair's promotion window now, while the request is "
        "AWAITING_APPROVAL or QUEUED (a QUEUED request goes once it opens); null otherwise."
    )
    async def window(self, info: Info) -> PromotionWindowState | None:
        if self.row.status not in (
            models.PromotionStatus.AWAITING_APPROVAL,
            models.PromotionStatus.QUEUED,
        ):
            return None
        pair = (self.row.application_id, self.row.target_environment_id)
        return PromotionWindowState.of(await window_by_pair(info).load(pair))

    async def _decisions(self, info: Info, kind: models.DecisionKind) -> list[Decision]:
        rows = [d for d in await decisions_by_request(info).load(self.row.id) if d.kind == kind]
        counting = (
            await self._counting(info, rows)
            if kind == models.DecisionKind.APPROVE
            else {d.user_id for d in rows}
        )
        return [
            Decision(at=d.at, comment=d.comment, user_id=d.user_id, counts=d.user_id in counting)
            for d in rows
        ]

    async def _counting(self, info: Info, approvals: list[models.PromotionDecision]) -> set[int]:
        """Of these approvals' users, those whose approval still counts (approvalMaxAge)."""
        policy = await policy_by_id(info).load(self.row.policy_id) if self.row.policy_id else None
        users = {d.user_id: d.at for d in approvals}
        return set(users) if policy is None else counting_approvers(users, policy, clock.now())

    @strawberry.field(description="The approvals given so far, oldest first.")
    async def approvals(self, info: Info) -> list[Decision]:
        return await self._decisions(info, models.DecisionKind.APPROVE)

    @strawberry.field(description="The rejection, with its reason; null unless REJECTED.")
    async def rejection(self, info: Info) -> Decision | None:
        rejections = await self._decisions(info, models.DecisionKind.REJECT)
        return rejections[0] if rejections else None

    def _approval_blocker(self, info: Info) -> asyncio.Task[str | None]:
        """Why the caller cannot approve now, or None when they can: evaluated once per row."""
        if self.blocker is None:
            self.blocker = asyncio.ensure_future(self._find_blocker(info))
        return self.blocker

    async def _find_blocker(self, info: Info) -> str | None:
        if self.row.status != models.PromotionStatus.AWAITING_APPROVAL:
            return f"the request is {self.row.status.value}"
        access = await info.context.access()
        current = await load_policy_of_pair(
            info, self.row.application_id, self.row.target_environment_id
        )
        governing_id = int(current.id) if current else None
        if self.row.policy_id is None or not still_governs(self.row, governing_id):
            return f"policy {self.row.policy_name} no longer applies to the target"
        # Already loaded by load_policy_of_pair: the loader answers from its cache.
        policy = await load_existing(policy_by_id(info), self.row.policy_id)
        image = await load_image(info, self.row.image_id)
        app = await load_application(info, self.row.application_id)
        env = await load_environment(info, self.row.target_environment_id)
        approvals = await decisions_by_request(info).load(self.row.id)
        blocker = approval_blocker(
            access,
            application=app.name,
            environment=env.name,
            requested_by_id=self.row.requested_by_id,
            builder_ids=builders_of(image),
            policy=policy,
            approver_ids=counting_approvers(
                {d.user_id: d.at for d in approvals if d.kind == models.DecisionKind.APPROVE},
                policy,
                clock.now(),
            ),
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
    environment: Environment = strawberry.field(description="The target environment.")
    policy: PromotionPolicy = strawberry.field(
        description="The policy that governs promoting there."
    )


@strawberry.type(description="One CEL condition's result for the image.")
class ConditionResult:
    expression: str = strawberry.field(description="The condition, as the policy has it.")
    result: bool | None = strawberry.field(
        description="What it evaluated to; null when evaluating it failed."
    )
    error: str | None = strawberry.field(
        description="Why evaluating it failed (the image is then not eligible); null when it ran."
    )

    @classmethod
    def of(cls, result: Any) -> ConditionResult | None:
        if result is None:
            return None
        return cls(expression=result.expression, result=result.result, error=result.error)


@strawberry.type(
    description="One clause of a policy condition that kept an image back (or, under a WARN "
    "policy, that a request went ahead with), and what it came to for the image."
)
class ClauseResult:
    condition: str = strawberry.field(
        description='"pass" or "fail": the condition the clause is part of.'
    )
    expression: str = strawberry.field(
        description="The clause: a top-level && / || operand of the condition (nested ones "
        "are explained down to the clause that decided), in CEL."
    )
    value: str = strawberry.field(
        description='The clause with its operands evaluated: `3 == 0`, `"1.4.2".startsWith('
        '"v")`; or its value (`false`), or `error: ...`.'
    )
    result: bool | None = strawberry.field(
        description="What the clause evaluated to; null when evaluating it failed."
    )
    error: str | None = strawberry.field(description="Why evaluating the clause failed.")

    @classmethod
    def of(cls, clause: Any) -> ClauseResult:
        """From an app.cel.ClauseResult, or the dict a request stores of one."""
        data = clause if isinstance(clause, dict) else vars(clause)
        return cls(
            condition=str(data["condition"]),
            expression=str(data["expression"]),
            value=str(data["value"]),
            result=data.get("result"),
            error=data.get("error"),
        )


_FAILED_CLAUSES = (
    "The clauses of the policy condition that decided: those that blocked the promotion "
    "(BLOCKED_BY_POLICY), or under a WARN policy those it goes ahead with anyway. At most "
    "10; empty when the conditions passed or an earlier check answered."
)


@strawberry.type(description="What promoting to one target would do; nothing is written.")
class PromotionPreview:
    environment: str = strawberry.field(description="The target environment, as asked.")
    outcome: PromoteOutcome = strawberry.field(
        description="What promoteImage would answer for this target."
    )
    message: str = strawberry.field(
        description="The outcome in words: the check that would stop it, or what would happen."
    )
    pass_condition: ConditionResult | None = strawberry.field(
        description="The policy's pass condition and its result for the image; null when the "
        "policy has none or an earlier check stopped the promotion."
    )
    fail_condition: ConditionResult | None = strawberry.field(
        description="The policy's fail condition and its result for the image; null when the "
        "policy has none or an earlier check stopped the promotion."
    )
    required_approvals: int | None = strawberry.field(
        description="Approvals the request would need (the policy's approverCount); null when "
        "an earlier check stopped the promotion before its policy."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the request would expire if made now and not approved in time "
        "(the policy's requestTimeout); null: no time limit, no approval needed, or an "
        "earlier check stopped it.",
    )
    eligible_approvers: list[User] = strawberry.field(
        description="Who could approve it, the people who would be emailed: active users "
        "with ARTIFACT_PROMOTER on the pair whom the policy's flags allow (super-admins are "
        "not listed for being super-admins). Empty when an earlier check stopped it."
    )
    window: PromotionWindowState | None = strawberry.field(
        default=None,
        description="The target pair's promotion window now: open or closed, and when that "
        "changes; null when an earlier check stopped the promotion.",
    )
    failed_clauses: list[ClauseResult] = strawberry.field(
        default_factory=list, description=_FAILED_CLAUSES
    )


@strawberry.type(description="The outcome of promoting to one target.")
class PromoteResult:
    environment: str = strawberry.field(description="The target environment, as asked.")
    outcome: PromoteOutcome = strawberry.field(description="What happened for this target.")
    message: str = strawberry.field(
        description="The outcome in words: the check that stopped it, or what happens next."
    )
    request: PromotionRequest | None = strawberry.field(
        description="The request made; null unless the outcome is PROMOTING, QUEUED or "
        "AWAITING_APPROVAL."
    )
    failed_clauses: list[ClauseResult] = strawberry.field(
        default_factory=list, description=_FAILED_CLAUSES
    )


@strawberry.type(description="What promoteImage did, one result per target.")
class PromoteImagePayload:
    results: list[PromoteResult] = strawberry.field(
        default_factory=list,
        description="One per target, in the order asked; one failing never stops the others.",
    )
    errors: list[UserError] = error_list(
        "Why nothing was tried (an unknown image, bad input); then results is empty. A target's "
        "own refusal is its result's outcome, not an error here.",
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
    )


@strawberry.type(description="The outcome for one request of approving or rejecting.")
class DecisionResult:
    request_id: strawberry.ID = strawberry.field(description="The request's id, as asked.")
    outcome: DecisionOutcome = strawberry.field(description="What happened to this request.")
    message: str = strawberry.field(description="The outcome in words.")
    request: PromotionRequest | None = strawberry.field(
        description="The request as it is now; null when NOT_FOUND."
    )


@strawberry.type(description="What approving or rejecting did, one result per request.")
class DecisionPayload:
    results: list[DecisionResult] = strawberry.field(
        default_factory=list,
        description="One per request id, in the order asked; one failing never stops the others.",
    )
    errors: list[UserError] = error_list(
        "Why nothing was decided (bad input, such as a missing reason); then results is empty. A "
        "request's own refusal is its result's outcome, not an error here.",
        ErrorCode.VALIDATION,
    )
