"""State changes of promotion requests, each a conditional UPDATE so racing callers can't double up.

`UPDATE ... WHERE status = <expected>` changes the row for exactly one caller; the
others see zero rows changed. This works the same on Postgres and SQLite, unlike
`SELECT ... FOR UPDATE`, which SQLite ignores.
"""

from __future__ import annotations

from app import clock
from app.accounts.access import Access
from app.events import RequestStatusChanged, publish
from app.outbox import service as outbox
from app.promotions.models import CLOSED_STATUSES, PromotionRequest, PromotionStatus

PROMOTE_JOB = "promotions.promote"


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


async def start_promoting(access: Access, request: int | PromotionRequest) -> bool:
    """AWAITING_APPROVAL → PROMOTING exactly once, with the promote job in the same transaction
    (`request` as for `move`)."""
    if not await move(
        access, request, PromotionStatus.AWAITING_APPROVAL, PromotionStatus.PROMOTING
    ):
        return False
    request_id = request if isinstance(request, int) else request.id
    await outbox.enqueue(PROMOTE_JOB, request_id=request_id)
    return True
