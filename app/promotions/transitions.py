"""State changes of promotion requests, each a conditional UPDATE so racing callers can't double up.

`UPDATE ... WHERE status = <expected>` changes the row for exactly one caller; the
others see zero rows changed. This works the same on Postgres and SQLite, unlike
`SELECT ... FOR UPDATE`, which SQLite ignores.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import clock
from app.accounts.access import Access
from app.audit.service import record
from app.events import RequestStatusChanged, publish
from app.observability import metrics
from app.outbox import service as outbox
from app.promotions import gates
from app.promotions.models import CLOSED_STATUSES, PromotionRequest, PromotionStatus
from app.windows import service as windows
from app.windows.calendar import WindowState

PROMOTE_JOB = "promotions.promote"
# Where a request's life ends (its lifetime is observed then); PROMOTED is not "closed".
ENDED = (PromotionStatus.PROMOTED, *CLOSED_STATUSES)


async def move(
    access: Access,
    request: int | PromotionRequest,
    expected: PromotionStatus,
    to: PromotionStatus,
    *,
    stale_reason: str | None = None,
) -> bool:
    """Move a request from `expected` to `to`; False when another caller got there first.

    `request` is its id, or the row when the caller has it with its application and
    target environment: the event names them, and then they are not read again; the
    row's status (and the other columns the move sets) are brought up to date.
    """
    request_id = request if isinstance(request, int) else request.id
    now = clock.now()
    changes: dict[str, object] = {"status": to, "updated_at": now}
    if to in CLOSED_STATUSES:
        changes["open_key"] = None
    if stale_reason is not None:
        changes["stale_reason"] = stale_reason
    if to == PromotionStatus.PROMOTED:
        changes["promoted_at"] = now
    changed = await PromotionRequest.filter(id=request_id, status=expected).update(**changes)
    if not changed:
        return False
    if isinstance(request, int):
        request = await PromotionRequest.get(id=request_id).select_related(
            "application", "target_environment"
        )
    else:  # the caller's row now says what the database does, without a read
        for name, value in changes.items():
            setattr(request, name, value)
    if to in ENDED:
        metrics.observe_end(request.created_at, to.value)
    # Audit, notifications and deployments (auto-deploy on PROMOTED) listen.
    await publish(
        RequestStatusChanged(
            actor=access,
            request_id=request_id,
            status=to.value,
            previous=expected.value,
            application_id=request.application_id,
            environment_id=request.target_environment_id,
            image_id=request.image_id,
            application=request.application.name,
            environment=request.target_environment.name,
            reason=stale_reason,
        )
    )
    return True


async def mark_stale(access: Access, request: int | PromotionRequest, reason: str) -> bool:
    """An awaiting request whose policy no longer holds can never be approved: STALE."""
    return await move(
        access,
        request,
        PromotionStatus.AWAITING_APPROVAL,
        PromotionStatus.STALE,
        stale_reason=reason,
    )


@dataclass(frozen=True)
class Started:
    """Where an approved request went (PROMOTING or QUEUED), and its pair's window then."""

    status: PromotionStatus
    window: WindowState


async def start_promoting(access: Access, request: int | PromotionRequest) -> Started | None:
    """AWAITING_APPROVAL → PROMOTING exactly once, with the promote job in the same
    transaction; → QUEUED instead while the pair's promotion window is closed and the
    request does not break glass (app/promotions/gates.py). None when another caller
    moved it first (`request` as for `move`)."""
    row = request if isinstance(request, PromotionRequest) else None
    if row is None:
        row = await PromotionRequest.get(id=request).select_related(
            "application", "target_environment"
        )
    window = await windows.state_of_pair(row.application_id, row.target_environment_id)
    break_glass = row.break_glass_reason is not None
    to = gates.status_when_approved(window, break_glass)
    if not await move(access, row, PromotionStatus.AWAITING_APPROVAL, to):
        return None
    metrics.observe_quorum(row.created_at)
    if to == PromotionStatus.PROMOTING:
        await outbox.enqueue(PROMOTE_JOB, request_id=row.id)
        if not window.open:
            await record_break_glass(access, row, window)
    return Started(to, window)


async def record_break_glass(access: Access, row: PromotionRequest, window: WindowState) -> None:
    """The audit record of a request promoted through a closed window by breaking glass."""
    await record(
        access,
        "promotion.break_glass",
        application=row.application.name,
        environment=row.target_environment.name,
        request_id=row.id,
        reason=row.break_glass_reason,
        closed_by=list(window.closed_by),
    )


async def release(access: Access, request_id: int) -> bool:
    """QUEUED → PROMOTING exactly once (its window opened), with the promote job."""
    if not await move(access, request_id, PromotionStatus.QUEUED, PromotionStatus.PROMOTING):
        return False
    await outbox.enqueue(PROMOTE_JOB, request_id=request_id)
    return True
