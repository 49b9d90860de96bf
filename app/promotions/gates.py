"""Promotion windows and break glass, as promotions applies them: the one home of the rule
that decides where an approved request goes (issue 16).

A request that needs no more approvals goes to PROMOTING, unless its pair's promotion
window is closed: then it is QUEUED, and the release sweep (app/promotions/release.py)
moves it to PROMOTING once the window opens. A break-glass request goes through a closed
window, but only after the policy's breakGlassApproverCount approvals on top of its
approverCount (`required_approvals`, fixed when the request is made).
"""

from __future__ import annotations

from datetime import datetime

from app.policies.models import PromotionPolicy
from app.promotions.models import PromotionStatus
from app.windows.calendar import WindowState


def required_approvals(policy: PromotionPolicy, break_glass: bool) -> int:
    """Approvals a request under `policy` needs; breaking glass adds the policy's own count."""
    return policy.approver_count + (policy.break_glass_approver_count if break_glass else 0)


def status_when_approved(window: WindowState, break_glass: bool) -> PromotionStatus:
    """Where a request with all its approvals goes: PROMOTING, or QUEUED while its pair's
    window is closed and it does not break glass."""
    if window.open or break_glass:
        return PromotionStatus.PROMOTING
    return PromotionStatus.QUEUED


def opens_text(window: WindowState) -> str:
    """'opens at <ISO time>' for messages, or why no time is known."""
    if window.opens_at is None:
        return "no opening is scheduled in the coming year"
    return f"opens at {_iso(window.opens_at)}"


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def queued_message(window: WindowState) -> str:
    names = ", ".join(window.closed_by) or "a promotion window"
    return f"the promotion window is closed ({names}): queued; it {opens_text(window)}"
