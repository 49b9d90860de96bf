"""A request's time rules (issue 16): when it expires, when its approvers are reminded,
and which approvals still count.

The one home of these rules; the request's creation, the sweeps (app/promotions/expiry.py,
app/notifications/reminders.py), the quorum and the API all ask here. The callers pass
`app.clock.now()`, so tests let a day pass without waiting for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.policies.models import PromotionPolicy
from app.promotions.models import PromotionStatus


def expires_at(policy: PromotionPolicy, status: PromotionStatus, now: datetime) -> datetime | None:
    """When a request made now under `policy` expires: only one that awaits approval does,
    and only when the policy has a requestTimeout."""
    if status != PromotionStatus.AWAITING_APPROVAL or policy.request_timeout_seconds is None:
        return None
    return now + timedelta(seconds=policy.request_timeout_seconds)


def first_reminder_at(
    policy: PromotionPolicy, status: PromotionStatus, now: datetime
) -> datetime | None:
    """When the approvers of a request made now are first reminded: one remindAfter on,
    for a request that awaits approval under a policy with reminders."""
    if (
        status != PromotionStatus.AWAITING_APPROVAL
        or policy.remind_after_seconds is None
        or policy.max_reminders < 1
    ):
        return None
    return now + timedelta(seconds=policy.remind_after_seconds)


def next_reminder_at(policy: PromotionPolicy | None, number: int, now: datetime) -> datetime | None:
    """After the `number`-th reminder went out at `now`: when the next is due, or None
    when that was the last one (or the policy no longer reminds). From `now`, not from
    the missed due time: a worker that was down sends one reminder, not a burst."""
    if policy is None or policy.remind_after_seconds is None or number >= policy.max_reminders:
        return None
    return now + timedelta(seconds=policy.remind_after_seconds)


def approval_counts(at: datetime, policy: PromotionPolicy, now: datetime) -> bool:
    """Whether an approval given `at` still counts towards the policy's quorum: always,
    unless the policy has an approvalMaxAge and the approval is older than that."""
    max_age = policy.approval_max_age_seconds
    return max_age is None or now - at <= timedelta(seconds=max_age)
