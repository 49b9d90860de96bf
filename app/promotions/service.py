"""Promoting images and deciding on promotion requests (SPEC §4, §5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.queryset import QuerySet

from app import cel, clock, ids, limits
from app.accounts.access import SYSTEM, Access
from app.accounts.models import User
from app.catalog.builders import builders_of
from app.catalog.repository import get_visible_image
from app.db import insert_new
from app.errors import DomainError, ErrorCode, Forbidden, not_found
from app.events import PromotionRequested, RequestApproved, RequestStatusChanged, publish
from app.observability import metrics
from app.outbox import service as outbox
from app.promotions import approval, gates, lifecycle, record, repository, transitions
from app.promotions.checks import PromotionChecks, Source, Verdict, already, open_key
from app.promotions.models import (
    DecisionKind,
    PromotionDecision,
    PromotionRequest,
)
from app.promotions.models import PromotionStatus as Status
from app.promotions.outcomes import DecisionOutcome, PromoteOutcome
from app.windows import service as windows
from app.windows.calendar import OPEN, WindowState


def _check_targets(targets: list[str]) -> None:
    """Before anything is loaded: each target costs checks and, in a preview, a query."""
    limits.refuse(limits.check_list(targets, "targetEnvironments", item_len=limits.NAME))


@dataclass
class PromoteResult:
    environment: str
    outcome: PromoteOutcome
    message: str
    request: PromotionRequest | None = None
    # The clauses that blocked it, or (a WARN policy) that it went ahead with.
    failed_clauses: tuple[cel.ClauseResult, ...] = ()


def _evaluation_record(verdict: Verdict) -> dict[str, Any]:
    evaluation = verdict.evaluation
    assert evaluation is not None

    def condition(result: cel.ConditionResult | None) -> dict[str, Any] | None:
        if result is None:
            return None
        return {"expression": result.expression, "result": result.result, "error": result.error}

    return {
        "variables": cel.recordable(verdict.variables),
        "eligible": evaluation.eligible,
        "passCondition": condition(evaluation.pass_condition),
        "failCondition": condition(evaluation.fail_condition),
        "failedClauses": [asdict(clause) for clause in evaluation.kept_back_by()],
    }


def _break_glass_reason(reason: str | None) -> str | None:
    """The break-glass reason as stored; None: no break glass. Given, it must say why."""
    if reason is None:
        return None
    limits.refuse(limits.check_text(reason, "breakGlass.reason", limits.REASON))
    if not reason.strip():
        raise DomainError(
            ErrorCode.VALIDATION, "breaking glass needs a reason", "breakGlass.reason"
        )
    return reason.strip()


async def _windows_of(checks: PromotionChecks, verdicts: list[Verdict]) -> dict[str, WindowState]:
    """Each ok target's window state now, read for all of them at once."""
    pairs = {
        v.environment: (checks.image.application_id, v.pipeline.environment_id)
        for v in verdicts
        if v.ok and v.pipeline is not None
    }
    states = await windows.states_of_pairs(list(set(pairs.values())))
    return {env: states.get(pair, OPEN) for env, pair in pairs.items()}


async def promote_image(
    access: Access,
    image_id: int,
    source: Source,
    targets: list[str],
    comment: str | None,
    break_glass: str | None = None,
) -> list[PromoteResult]:
    """One outcome per target, in the order asked; one target failing never stops the others.

    `break_glass`, a reason, promotes through a closed promotion window once the policy's
    breakGlassApproverCount approvals on top of its approverCount are given."""
    _check_targets(targets)
    limits.refuse(limits.check_text(comment, "comment", limits.COMMENT))
    reason = _break_glass_reason(break_glass)
    image = await get_visible_image(access, image_id)
    checks = await PromotionChecks.load(access, image, source)
    verdicts = await checks.check_all(targets)
    states = await _windows_of(checks, verdicts)
    results = []
    for verdict in verdicts:
        target = verdict.environment
        if not verdict.ok:
            results.append(
                PromoteResult(
                    target, verdict.outcome, verdict.message, failed_clauses=verdict.failed_clauses
                )
            )
            continue
        results.append(
            await _create_request(access, checks, verdict, comment, states[target], reason)
        )
    metrics.count_after_commit(metrics.PROMOTIONS, [(r.outcome,) for r in results])
    return results


def _initial(
    verdict: Verdict, window: WindowState, break_glass: bool
) -> tuple[Status, PromoteOutcome, str]:
    """The status a new request starts in, with the outcome and message that say so."""
    assert verdict.policy is not None
    needed = gates.required_approvals(verdict.policy, break_glass)
    if needed > 0:
        glass = " (break glass)" if break_glass else ""
        message = f"waiting for {needed} approval(s){glass}"
        return Status.AWAITING_APPROVAL, PromoteOutcome.AWAITING_APPROVAL, message
    status = gates.status_when_approved(window, break_glass)
    if status == Status.QUEUED:
        return status, PromoteOutcome.QUEUED, gates.queued_message(window)
    return status, PromoteOutcome.PROMOTING, verdict.message


async def _create_request(
    access: Access,
    checks: PromotionChecks,
    verdict: Verdict,
    comment: str | None,
    window: WindowState = OPEN,
    break_glass: str | None = None,
) -> PromoteResult:
    image, policy, pipeline = checks.image, verdict.policy, verdict.pipeline
    assert policy is not None and pipeline is not None and access.user is not None
    status, outcome, message = _initial(verdict, window, break_glass is not None)
    key = open_key(image.id, pipeline.environment_id)
    now = clock.now()
    created = await insert_new(
        [
            PromotionRequest(
                image_id=image.id,
                application_id=image.application_id,
                workflow_id=image.workflow_id,
                source_type=checks.source.type,
                source_environment_id=(
                    checks.source_pipeline.environment_id if checks.source_pipeline else None
                ),
                target_environment_id=pipeline.environment_id,
                status=status,
                open_key=key,
                requested_by_id=access.user.id,
                comment=comment,
                policy_id=policy.id,
                policy_name=policy.name,
                policy_version=policy.version,
                required_approvals=gates.required_approvals(policy, break_glass is not None),
                break_glass_reason=break_glass,
                evaluation=_evaluation_record(verdict),
                warnings=[asdict(clause) for clause in verdict.warnings],
                expires_at=lifecycle.expires_at(policy, status, now),
                next_reminder_at=lifecycle.first_reminder_at(policy, status, now),
            )
        ],
        "open_key",
    )
    if not created:
        # The database's one-open-request rule: someone else's request won the pair (the
        # INSERT skipped the row rather than fail, so the other targets go on).
        existing = await PromotionRequest.get(open_key=key)
        lost = already(verdict.environment, existing)
        return PromoteResult(verdict.environment, lost.outcome, lost.message)
    [request] = created
    await publish(
        PromotionRequested(
            actor=access,
            request_id=request.id,
            application=image.application.name,
            environment=verdict.environment,
            image_id=image.id,
            source=checks.source.describe(),
            policy=policy.name,
            policy_version=policy.version,
            status=status.value,
            break_glass=break_glass,
            warnings=tuple(cel.describe(clause) for clause in verdict.warnings),
        )
    )
    await publish(
        RequestStatusChanged(
            actor=access,
            request_id=request.id,
            status=status.value,
            previous=None,
            application_id=image.application_id,
            environment_id=pipeline.environment_id,
            image_id=image.id,
            application=image.application.name,
            environment=verdict.environment,
        )
    )
    if status == Status.PROMOTING:
        await outbox.enqueue(transitions.PROMOTE_JOB, request_id=request.id)
        if not window.open:  # break glass needing no approval at all (a count of 0)
            request.application, request.target_environment = (
                image.application,
                pipeline.environment,
            )
            await transitions.record_break_glass(access, request, window)
    return PromoteResult(verdict.environment, outcome, message, request, verdict.warnings)


@dataclass
class Preview:
    verdict: Verdict
    eligible_approvers: list[User] = field(default_factory=list)
    # The target pair's promotion window now (open when none applies).
    window: WindowState = OPEN

    @property
    def outcome(self) -> PromoteOutcome:
        """The verdict's outcome, QUEUED where a request would wait for the window."""
        if self.verdict.outcome == PromoteOutcome.PROMOTING and not self.window.open:
            return PromoteOutcome.QUEUED
        return self.verdict.outcome

    @property
    def message(self) -> str:
        if self.outcome == PromoteOutcome.QUEUED:
            return gates.queued_message(self.window)
        return self.verdict.message

    @property
    def expires_at(self) -> datetime | None:
        """When the request would expire if made now (it would await approval)."""
        policy = self.verdict.policy
        if policy is None or self.verdict.outcome != PromoteOutcome.AWAITING_APPROVAL:
            return None
        return lifecycle.expires_at(policy, Status.AWAITING_APPROVAL, clock.now())


async def preview_promotion(
    access: Access, image_id: int, source: Source, targets: list[str]
) -> list[Preview]:
    """What promote_image would answer for each target, writing nothing."""
    _check_targets(targets)
    image = await get_visible_image(access, image_id)
    checks = await PromotionChecks.load(access, image, source)
    verdicts = await checks.check_all(targets)
    # One batch for every target with a policy (the others list nobody).
    approvers = iter(
        await approval.eligible_approvers_of_targets(
            image.application.name,
            [(v.environment, v.policy) for v in verdicts if v.policy is not None],
            requester_id=access.user_id,
            builder_ids=builders_of(image),
        )
    )
    states = await _windows_of(checks, verdicts)
    return [
        Preview(v, next(approvers) if v.policy is not None else [], states.get(v.environment, OPEN))
        for v in verdicts
    ]


async def complete_promotion(request_id: int) -> None:
    """The promote job: PROMOTING → PROMOTED while the request's policy still governs the pair."""
    request = await PromotionRequest.get_or_none(id=request_id)
    if request is None or request.status != Status.PROMOTING:
        return  # already done (or gone): running the job twice changes nothing
    if await approval.governing_policy(request) is None:
        await transitions.move(
            SYSTEM,
            request_id,
            Status.PROMOTING,
            Status.STALE,
            stale_reason="its policy no longer applies to the target",
        )
        return
    # Deployments listens for PROMOTED (an AUTOMATIC target deploys the image).
    if await transitions.move(SYSTEM, request_id, Status.PROMOTING, Status.PROMOTED):
        # Same transaction as the move: a PROMOTED request always has its signed record.
        await record.record_promotion(request_id)


@dataclass
class DecisionResult:
    request_id: str
    outcome: DecisionOutcome
    message: str
    request: PromotionRequest | None = None


async def _visible_request(access: Access, request_id: str) -> PromotionRequest | None:
    pk = ids.row_id(request_id, "PromotionRequest")
    if pk is None:
        return None
    request = await PromotionRequest.get_or_none(id=pk).select_related(
        "application", "target_environment", "image"
    )
    if request is None or not access.can_view(request.application.name):
        return None
    return request


async def _lock_pending(request: PromotionRequest) -> bool:
    """Take the request's row lock (Postgres) while it is still awaiting approval.

    Approvals of one request then run one after another, so the one that reaches the
    quorum always sees every earlier approval; SQLite serialises writers anyway.
    """
    now = datetime.now(UTC)
    touched = await PromotionRequest.filter(id=request.id, status=Status.AWAITING_APPROVAL).update(
        updated_at=now
    )
    if touched:
        request.updated_at = now
    return bool(touched)


async def _decide(
    access: Access, request_id: str, kind: DecisionKind, comment: str | None
) -> DecisionResult:
    request = await _visible_request(access, request_id)
    if request is None:
        return DecisionResult(
            request_id, DecisionOutcome.NOT_FOUND, f"no promotion request with id {request_id}"
        )
    app, env = request.application.name, request.target_environment.name

    def result(outcome: DecisionOutcome, message: str) -> DecisionResult:
        return DecisionResult(request_id, outcome, message, request)

    async def not_pending() -> DecisionResult:
        await request.refresh_from_db(fields=["status"])
        return result(DecisionOutcome.NOT_PENDING, f"the request is {request.status.value}")

    if request.status != Status.AWAITING_APPROVAL:
        return await not_pending()
    if forbidden := approval.role_blocker(access, app, env):
        return result(DecisionOutcome(forbidden[0]), forbidden[1])
    if not await _lock_pending(request):  # another decision got there first
        return await not_pending()
    policy = await approval.governing_policy(request)
    if policy is None:
        reason = f"policy {request.policy_name} no longer applies to {app}/{env}"
        await transitions.mark_stale(access, request, reason)
        return result(DecisionOutcome.STALE, reason)
    approvals = await repository.approvals_of(request.id)
    now = clock.now()
    counting = approval.counting_approvers(approvals, policy, now)
    blocker = approval.approval_blocker(
        access,
        application=app,
        environment=env,
        requested_by_id=request.requested_by_id,
        builder_ids=builders_of(request.image),
        policy=policy,
        approver_ids=counting if kind == DecisionKind.APPROVE else set(),
    )
    if blocker is not None:
        return result(DecisionOutcome(blocker[0]), blocker[1])
    assert access.user is not None
    if kind == DecisionKind.APPROVE and access.user.id in approvals:
        # Their approval aged out (approvalMaxAge): approving again renews it. Conditional
        # on the time read, so two renewals racing count once.
        renewed = await PromotionDecision.filter(
            request_id=request.id,
            user_id=access.user.id,
            kind=kind,
            at=approvals[access.user.id],
        ).update(at=now, comment=comment)
        if not renewed:
            return result(
                DecisionOutcome.ALREADY_APPROVED, "you have already approved this request"
            )
    elif not await insert_new(
        [
            PromotionDecision(
                request_id=request.id, user_id=access.user.id, kind=kind, comment=comment, at=now
            )
        ],
        "request_id",
        "user_id",
        "kind",
    ):
        # The same user's decision raced in twice (on SQLite, or past the row lock): the
        # INSERT skipped it rather than fail, so the other requests of the call go on.
        return result(DecisionOutcome.ALREADY_APPROVED, "you have already approved this request")
    if kind == DecisionKind.REJECT:
        await transitions.move(access, request, Status.AWAITING_APPROVAL, Status.REJECTED)
        return result(DecisionOutcome.REJECTED, "the request is rejected")
    await publish(
        RequestApproved(
            actor=access, request_id=request.id, application=app, environment=env, comment=comment
        )
    )
    count = len(counting) + 1
    needed = gates.required_approvals(policy, request.break_glass_reason is not None)
    started = await transitions.start_promoting(access, request) if count >= needed else None
    if started is not None and started.status == Status.QUEUED:
        return result(
            DecisionOutcome.QUEUED, "quorum reached: " + gates.queued_message(started.window)
        )
    if started is not None:
        return result(DecisionOutcome.PROMOTING, "quorum reached: promoting")
    return result(DecisionOutcome.APPROVED, f"approved ({count} of {needed})")


async def _each(
    access: Access, request_ids: list[str], kind: DecisionKind, comment: str | None
) -> list[DecisionResult]:
    # No savepoint per request: nothing _decide writes can fail on a unique constraint
    # (its decision INSERT skips a duplicate instead), and any other error fails the call.
    results = [await _decide(access, request_id, kind, comment) for request_id in request_ids]
    metrics.count_after_commit(
        metrics.APPROVAL_DECISIONS, [(kind.value, r.outcome) for r in results]
    )
    return results


async def approve(
    access: Access, request_ids: list[str], comment: str | None
) -> list[DecisionResult]:
    """Approve each request; the approval that reaches the quorum moves it to PROMOTING."""
    limits.refuse(
        limits.check_list(request_ids, "requestIds", item_len=limits.ID),
        limits.check_text(comment, "comment", limits.COMMENT),
    )
    return await _each(access, request_ids, DecisionKind.APPROVE, comment)


async def reject(access: Access, request_ids: list[str], reason: str) -> list[DecisionResult]:
    """Reject each request with a reason; the requester is told."""
    limits.refuse(
        limits.check_list(request_ids, "requestIds", item_len=limits.ID),
        limits.check_text(reason, "reason", limits.REASON),
    )
    if not reason.strip():
        raise DomainError(ErrorCode.VALIDATION, "a reason is required to reject", "reason")
    return await _each(access, request_ids, DecisionKind.REJECT, reason.strip())


async def cancel(access: Access, request_id: str) -> PromotionRequest:
    """The requester (or a super-admin) withdraws a request still awaiting approval or
    queued for its promotion window."""
    request = await _visible_request(access, request_id)
    if request is None:
        raise not_found(f"no promotion request with id {request_id}", "requestId")
    if request.requested_by_id != access.user_id and not access.is_super_admin:
        raise Forbidden("only the requester or a super-admin may cancel a request")
    expected = Status.QUEUED if request.status == Status.QUEUED else Status.AWAITING_APPROVAL
    if not await transitions.move(access, request, expected, Status.CANCELLED):
        await request.refresh_from_db(fields=["status"])
        raise DomainError(
            ErrorCode.NOT_PENDING,
            f"only a request awaiting approval or queued can be cancelled; "
            f"this one is {request.status.value}",
            "requestId",
        )
    return request


async def visible_request(access: Access, request_id: str) -> PromotionRequest | None:
    """The request with the id; None when the id is not one, unknown, or not visible."""
    return await _visible_request(access, request_id)


async def visible_requests(
    access: Access, application: str | None, statuses: Sequence[Status] | None
) -> QuerySet[PromotionRequest]:
    """Requests the caller may see, of `application` and in `statuses` (None: any)."""
    limits.refuse(limits.check_list(statuses, "status"))
    return repository.with_status(await repository.visible_requests(access, application), statuses)
