"""Sending emails again: a super-admin resends the ones that failed or are in doubt."""

from __future__ import annotations

from app import clock, ids, limits
from app.accounts.access import Access
from app.audit.service import record
from app.errors import DomainError, ErrorCode, not_found, validation
from app.notifications.delivery import SEND_JOB
from app.notifications.models import Notification, NotificationState
from app.outbox import service as outbox

# What a super-admin may send again: given up (FAILED), or in doubt (UNKNOWN: the
# recipient may then get it twice, which the super-admin decides to risk).
RESENDABLE = (NotificationState.FAILED, NotificationState.UNKNOWN)
MAX_RESEND = limits.MAX_ITEMS  # like every input list


async def resend(access: Access, notification_ids: list[int]) -> list[Notification]:
    """Send FAILED or UNKNOWN emails again with a fresh set of attempts (super-admins);
    all or nothing: one id that is unknown or not resendable refuses the lot."""
    access.require_super_admin()
    unique = list(dict.fromkeys(notification_ids))
    if not 1 <= len(unique) <= MAX_RESEND:
        raise validation(
            f"ids must list 1 to {MAX_RESEND} notifications (got {len(unique)})", "ids"
        )
    rows = {n.id: n for n in await Notification.filter(id__in=unique)}
    for position, notification_id in enumerate(unique):
        row = rows.get(notification_id)
        if row is None:
            raise not_found(
                f"no notification has id {ids.global_id('Notification', notification_id)}",
                f"ids.{position}",
            )
        if row.state not in RESENDABLE:
            raise DomainError(
                ErrorCode.NOT_RESENDABLE,
                f"notification {notification_id} is "
                f"{row.state.value}: only FAILED or UNKNOWN ones can be resent",
                f"ids.{position}",
            )
    now = clock.now()
    for position, notification_id in enumerate(unique):
        row = rows[notification_id]
        changed = await Notification.filter(id=row.id, state=row.state).update(
            state=NotificationState.PENDING,
            attempts=0,
            unreachable_tries=0,
            error=None,
            next_attempt_at=now,
            claimed_by=None,
            claimed_at=None,
        )
        if not changed:  # resent (or changed) by someone else in the meantime
            raise DomainError(
                ErrorCode.NOT_RESENDABLE,
                f"notification {notification_id} changed meanwhile; reload and try again",
                f"ids.{position}",
            )
        await record(
            access,
            "notification.resent",
            notification_id=row.id,
            recipient=row.recipient,
            event=row.event.value,
            previous_state=row.state.value,
            previous_error=row.error,
        )
    await outbox.enqueue(SEND_JOB, notification_ids=unique)
    return await Notification.filter(id__in=unique).order_by("id")
