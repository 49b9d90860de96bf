"""GraphQL queries and mutations of promotions: thin doors onto the promotions service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry

from app import limits
from app.accounts.types import User
from app.catalog.types import Environment, Image
from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, parse_id, unset_to_none
from app.graphql.pagination import After, Connection, First, paginate
from app.policies.types import PromotionPolicy
from app.promotions import choices, repository, service
from app.promotions.checks import Source
from app.promotions.types import (
    ClauseResult,
    ConditionResult,
    DecisionPayload,
    DecisionResult,
    PromoteImagePayload,
    PromoteResult,
    PromotionPreview,
    PromotionRequest,
    PromotionStatus,
    PromotionTarget,
    SourceType,
)
from app.windows.types import PromotionWindowState

_TARGETS = Annotated[
    list[str],
    strawberry.argument(
        description="The target environments' names. " + limits.list_note(item_len=limits.NAME)
    ),
]
_REQUEST_IDS = Annotated[
    list[strawberry.ID], strawberry.argument(description=limits.list_note(item_len=limits.ID))
]
_COMMENT = Annotated[
    str | None,
    strawberry.argument(
        description="Shown with the request and in its emails. " + limits.text_note(limits.COMMENT)
    ),
]
_APPROVAL_COMMENT = Annotated[
    str | None,
    strawberry.argument(description="Kept with each approval. " + limits.text_note(limits.COMMENT)),
]
_APPLICATION = Annotated[str, strawberry.argument(description="The application's name.")]
_WORKFLOW = Annotated[
    str, strawberry.argument(description="The workflow's name, in that application.")
]
_IMAGE_ID = Annotated[strawberry.ID, strawberry.argument(description="The image to promote.")]


@strawberry.input(description="CI, or an environment of the image's workflow.")
class ImageSourceInput:
    type: SourceType = strawberry.field(description="CI, or ENVIRONMENT with `environment`.")
    environment: str | None = strawberry.field(
        default=UNSET, description="The source environment's name, with ENVIRONMENT; unused for CI."
    )

    def source(self) -> Source:
        return Source(self.type, unset_to_none(self.environment))


_SOURCE = Annotated[
    ImageSourceInput,
    strawberry.argument(
        description="Where the image is promoted from: CI, or an environment where it passed "
        "all stages."
    ),
]


@strawberry.input(description="Promote through a closed promotion window, saying why.")
class BreakGlassInput:
    reason: str = strawberry.field(
        description="Why it cannot wait for the window; kept with the request, in its emails "
        "and in the audit log. " + limits.text_note(limits.REASON)
    )


@strawberry.type(description="The request after the change, or why it did not change.")
class PromotionRequestPayload:
    request: PromotionRequest | None = strawberry.field(
        default=None, description="The request as it is now; null when errors is not empty."
    )
    errors: list[UserError] = error_list(
        "Why nothing changed: for instance NOT_PENDING, the request no longer awaits approval.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.NOT_PENDING,
    )


def _request_result(result: service.PromoteResult) -> PromoteResult:
    return PromoteResult(
        environment=result.environment,
        outcome=result.outcome,
        message=result.message,
        request=PromotionRequest.of(result.request) if result.request else None,
        failed_clauses=[ClauseResult.of(c) for c in result.failed_clauses],
    )


def _decision_payload(results: Sequence[service.DecisionResult]) -> DecisionPayload:
    return DecisionPayload(
        results=[
            DecisionResult(
                request_id=strawberry.ID(r.request_id),
                outcome=r.outcome,
                message=r.message,
                request=PromotionRequest.of(r.request) if r.request else None,
            )
            for r in results
        ]
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Images you may pick to promote: CI's newest first, or those "
        "that passed all stages of a source environment."
    )
    async def promotable_images(
        self,
        info: Info,
        application: _APPLICATION,
        workflow: _WORKFLOW,
        source: Annotated[
            ImageSourceInput,
            strawberry.argument(
                description="CI: every image of the workflow; an environment: the images that "
                "passed all its stages."
            ),
        ],
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[Image]:
        access = await info.context.access()
        images = await choices.promotable_images(access, application, workflow, source.source())
        return await paginate(images, first, unset_to_none(after), Image.of)

    @strawberry.field(description="The workflow's environments that have a promotion policy.")
    async def promotion_targets(
        self, info: Info, application: _APPLICATION, workflow: _WORKFLOW
    ) -> list[PromotionTarget]:
        access = await info.context.access()
        return [
            PromotionTarget(environment=Environment.of(env), policy=PromotionPolicy.of(policy))
            for env, policy in await choices.promotion_targets(access, application, workflow)
        ]

    @strawberry.field(description="A dry run of promoteImage: per target, what it would answer.")
    async def promotion_preview(
        self,
        info: Info,
        image_id: _IMAGE_ID,
        source: _SOURCE,
        target_environments: _TARGETS,
    ) -> list[PromotionPreview]:
        access = await info.context.access()
        previews = await service.preview_promotion(
            access, parse_id(image_id, "imageId", "Image"), source.source(), target_environments
        )
        return [
            PromotionPreview(
                environment=p.verdict.environment,
                outcome=p.outcome,
                message=p.message,
                pass_condition=ConditionResult.of(
                    p.verdict.evaluation.pass_condition if p.verdict.evaluation else None
                ),
                fail_condition=ConditionResult.of(
                    p.verdict.evaluation.fail_condition if p.verdict.evaluation else None
                ),
                required_approvals=p.verdict.policy.approver_count if p.verdict.policy else None,
                expires_at=p.expires_at,
                eligible_approvers=[User.of(u) for u in p.eligible_approvers],
                window=PromotionWindowState.of(p.window) if p.verdict.ok else None,
                failed_clauses=[ClauseResult.of(c) for c in p.verdict.failed_clauses],
            )
            for p in previews
        ]

    @strawberry.field(
        description="Requests awaiting approval, newest first; by default only those you "
        "could approve now. A page costs the same however many requests await; totalCount, "
        "counted only when selected, reads every matching request, so its cost grows with "
        "the list."
    )
    async def pending_approvals(
        self,
        info: Info,
        application: Annotated[
            str | None, strawberry.argument(description="Only requests of this application.")
        ] = UNSET,
        target_environment: Annotated[
            str | None,
            strawberry.argument(description="Only requests to promote to this environment."),
        ] = UNSET,
        pending_with_me: Annotated[
            bool | None,
            strawberry.argument(
                description="True (the default): only the requests you could approve now "
                "(role, the policy's flags, not approved by you yet); false: every one you can see."
            ),
        ] = True,
        first: First = 20,
        after: After = UNSET,
        workflow: Annotated[
            str | None,
            strawberry.argument(
                description="Only requests for images of this workflow (with `application`)."
            ),
        ] = UNSET,
    ) -> Connection[PromotionRequest]:
        access = await info.context.access()
        rows = await repository.pending_requests(
            access,
            application=unset_to_none(application),
            workflow=unset_to_none(workflow),
            environment=unset_to_none(target_environment),
            pending_with_me=pending_with_me is not False,
        )
        return await paginate(rows, first, unset_to_none(after), PromotionRequest.of)

    @strawberry.field(description="Promotion requests of the applications you can see.")
    async def promotion_requests(
        self,
        info: Info,
        application: Annotated[
            str | None, strawberry.argument(description="Only requests of this application.")
        ] = UNSET,
        status: Annotated[
            list[PromotionStatus] | None,
            strawberry.argument(
                description="Only requests in one of these states. " + limits.list_note()
            ),
        ] = UNSET,
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[PromotionRequest]:
        access = await info.context.access()
        rows = await service.visible_requests(
            access, unset_to_none(application), unset_to_none(status)
        )
        return await paginate(rows, first, unset_to_none(after), PromotionRequest.of)

    @strawberry.field(description="One request; null when unknown or not visible to you.")
    async def promotion_request(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The request's id.")],
    ) -> PromotionRequest | None:
        row = await service.visible_request(await info.context.access(), id)
        return PromotionRequest.of(row) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Promote an image to one or more targets; one outcome each.")
    async def promote_image(
        self,
        info: Info,
        image_id: _IMAGE_ID,
        source: _SOURCE,
        target_environments: _TARGETS,
        comment: _COMMENT = UNSET,
        break_glass: Annotated[
            BreakGlassInput | None,
            strawberry.argument(
                description="Break glass: the requests go through a closed promotion window "
                "(instead of waiting QUEUED), but each needs the policy's "
                "breakGlassApproverCount approvals on top of its approverCount (super-admins "
                "are not exempt from separation of duty); every approver is emailed and the "
                "audit log names it."
            ),
        ] = UNSET,
    ) -> PromoteImagePayload | None:
        access = await info.context.access()

        async def run() -> PromoteImagePayload:
            results = await service.promote_image(
                access,
                parse_id(image_id, "imageId", "Image"),
                source.source(),
                target_environments,
                unset_to_none(comment),
                glass.reason if (glass := unset_to_none(break_glass)) is not None else None,
            )
            return PromoteImagePayload(results=[_request_result(r) for r in results])

        return await mutate(run, lambda errors: PromoteImagePayload(errors=errors))

    @strawberry.mutation(description="Approve requests; one outcome each.")
    async def approve_promotion_requests(
        self, info: Info, request_ids: _REQUEST_IDS, comment: _APPROVAL_COMMENT = UNSET
    ) -> DecisionPayload | None:
        access = await info.context.access()

        async def run() -> DecisionPayload:
            return _decision_payload(
                await service.approve(access, list(request_ids), unset_to_none(comment))
            )

        return await mutate(run, lambda errors: DecisionPayload(errors=errors))

    @strawberry.mutation(description="Reject requests with a reason; one outcome each.")
    async def reject_promotion_requests(
        self,
        info: Info,
        request_ids: _REQUEST_IDS,
        reason: Annotated[
            str,
            strawberry.argument(
                description="Required; told to the requester. " + limits.text_note(limits.REASON)
            ),
        ],
    ) -> DecisionPayload | None:
        access = await info.context.access()

        async def run() -> DecisionPayload:
            return _decision_payload(await service.reject(access, list(request_ids), reason))

        return await mutate(run, lambda errors: DecisionPayload(errors=errors))

    @strawberry.mutation(
        description="Withdraw a request awaiting approval (requester or super-admin)."
    )
    async def cancel_promotion_request(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="The request to withdraw.")
        ],
    ) -> PromotionRequestPayload | None:
        access = await info.context.access()

        async def run() -> PromotionRequestPayload:
            request = await service.cancel(access, request_id)
            return PromotionRequestPayload(request=PromotionRequest.of(request))

        return await mutate(run, lambda errors: PromotionRequestPayload(errors=errors))
