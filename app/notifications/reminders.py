"""Reminders to approvers who were emailed about a request and have not decided (issue 16).

A request made under a policy with `remindAfter` carries when its next reminder is due
(`next_reminder_at`, app/promotions/lifecycle.py). The periodic sweep takes the awaiting
requests whose time has come and, for each, moves the count on with one conditional
UPDATE (`reminders_sent = n → n + 1`): of sweeps running at once in several processes,
exactly one wins each reminder number, and only the winner writes the emails. The emails
are keyed (request, recipient, REMINDER, n) as well, so even a repeated run inside one
transaction writes each once. A request that leaves AWAITING_APPROVAL is never picked.
"""

from __future__ import annotations

from app import clock
from app.accounts.models import User
from app.notifications.models import Notification, NotificationEvent
from app.notifications.service import recipients, write_emails
from app.outbox.registry import each_due
from app.promotions import lifecycle
from app.promotions.models import PromotionDecision, PromotionRequest, PromotionStatus


async def remind_due() -> int:
    """Send the reminders that are due; how many emails were written."""
    due = PromotionRequest.filter(
        status=PromotionStatus.AWAITING_APPROVAL, next_reminder_at__lte=clock.now()
    ).order_by("next_reminder_at", "id")
    return await each_due(due, _remind)


async def _remind(request_id: int) -> int:
    now = clock.now()
    request = await PromotionRequest.get(id=request_id).select_related(
        "application", "target_environment", "image", "requested_by", "policy"
    )
    due = request.next_reminder_at
    if request.status != PromotionStatus.AWAITING_APPROVAL or due is None or due > now:
        return 0
    number = request.reminders_sent + 1
    policy = request.policy
    # Lowered maxReminders or dropped remindAfter since: this one is not sent either.
    sending = (
        policy is not None
        and policy.remind_after_seconds is not None
        and number <= policy.max_reminders
    )
    won = await PromotionRequest.filter(
        id=request_id,
        status=PromotionStatus.AWAITING_APPROVAL,
        reminders_sent=request.reminders_sent,
    ).update(
        reminders_sent=number if sending else request.reminders_sent,
        next_reminder_at=lifecycle.next_reminder_at(policy, number, now) if sending else None,
    )
    if not won or not sending:
        return 0
    people = await undecided_approvers(request)
    return await write_emails(request, NotificationEvent.REMINDER, people, occurrence=number)


async def undecided_approvers(request: PromotionRequest) -> list[User]:
    """The approvers who were emailed about the request, may still approve it, and have
    neither approved nor rejected it. `request` comes as `recipients` takes it."""
    emailed = {
        row.recipient
        for row in await Notification.filter(
            request_id=request.id, event=NotificationEvent.APPROVAL_REQUESTED
        ).only("recipient")
    }
    decided = {
        row.user_id for row in await PromotionDecision.filter(request_id=request.id).only("user_id")
    }
    eligible = await recipients(request, NotificationEvent.APPROVAL_REQUESTED)
    return [u for u in eligible if u.email in emailed and u.id not in decided]
