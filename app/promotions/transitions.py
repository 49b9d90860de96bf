"""State changes of promotion requests, each a conditional UPDATE so racing callers can't double up.

`UPDATE ... WHERE status = <expected>` changes the row for exactly one caller; the
others see zero rows changed. This works the same on Postgres and SQLite, unlike
`SELECT ... FOR UPDATE`, which SQLite ignores.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.accounts.access import Access
from app.events import RequestStatusChanged, publish
from app.outbox import service as outbox
from app.promotions.models import PromotionRequest, PromotionStatus

PROMOTE_JOB = "promotions.promote"

# Leaving these states frees the (image, target) pair for a new request.
_CLOSING = {PromotionStatus.CANCELLED, PromotionStatus.REJECTED, PromotionStatus.STALE}


async def move(
    access: Access,
    request_id: int,
    expected: PromotionStatus,
    to: PromotionStatus,
    *,
    stale_reason: str | None = None,
) -> bool:
    """Move a request from `expected` to `to`; False when another caller got there first."""
    changes: dict[str, object] = {"status": to, "updated_at": datetime.now(UTC)}
    if to in _CLOSING:
        changes["open_key"] = None
    if stale_reason is not None:
        changes["stale_reason"] = stale_reason
    if to == PromotionStatus.PROMOTED:
        changes["promoted_at"] = datetime.now(UTC)
    changed = await PromotionRequest.filter(id=request_id, status=expected).update(**changes)
    if not changed:
        return False
    request = await PromotionRequest.get(id=request_id).select_related(
        "application", "target_environment"
    )
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


async def mark_stale(access: Access, request_id: int, reason: str) -> bool:
    """An awaiting request whose policy no longer holds can never be approved: STALE."""
    return await move(
        access,
        request_id,
        PromotionStatus.AWAITING_APPROVAL,
        PromotionStatus.STALE,
        stale_reason=reason,
    )


async def start_promoting(access: Access, request_id: int) -> bool:
    """AWAITING_APPROVAL → PROMOTING exactly once, with the promote job in the same transaction."""
    if not await move(
        access, request_id, PromotionStatus.AWAITING_APPROVAL, PromotionStatus.PROMOTING
    ):
        return False
    await outbox.enqueue(PROMOTE_JOB, request_id=request_id)
    return True
