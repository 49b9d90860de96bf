"""Email notifications about promotion requests (SPEC §7): who gets which email.

`request_status_changed` runs inside the transaction of every request state change, so
the emails exist exactly when the change does (and vanish with its rollback). It only
writes rows and a job; app/notifications/delivery.py sends them.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from tortoise.queryset import QuerySet

from app import cel, clock
from app.accounts.access import Access
from app.accounts.models import User
from app.catalog.builders import builders_of
from app.catalog.models import Environment
from app.db import insert_new
from app.notifications import content, links, repository
from app.notifications.delivery import SEND_JOB
from app.notifications.models import Notification, NotificationEvent, NotificationState
from app.outbox import service as outbox
from app.policies.models import PromotionPolicy
from app.promotions.approval import eligible_approvers
from app.promotions.models import (
    DecisionKind,
    PromotionDecision,
    PromotionRequest,
    PromotionStatus,
    SourceType,
)
from app.settings import get_settings

log = logging.getLogger("hoist.notifications")

# The states that email someone; the others (PROMOTING, CANCELLED) email nobody.
_EVENTS = {
    PromotionStatus.AWAITING_APPROVAL: NotificationEvent.APPROVAL_REQUESTED,
    PromotionStatus.PROMOTED: NotificationEvent.PROMOTED,
    PromotionStatus.REJECTED: NotificationEvent.REJECTED,
    PromotionStatus.STALE: NotificationEvent.STALE,
    PromotionStatus.EXPIRED: NotificationEvent.EXPIRED,
}


def person(user: User) -> str:
    """How an email names a user: `Name <email>`."""
    return f"{user.name} <{user.email}>"


async def request_facts(
    request: PromotionRequest, event: NotificationEvent | None = None
) -> content.RequestFacts:
    """What an email about `event` (None: any page about the request) tells of it, read
    now. `request` comes with its application, target environment, image and requester."""
    source = "CI"
    if request.source_type == SourceType.ENVIRONMENT and request.source_environment_id:
        source = (await Environment.get(id=request.source_environment_id)).name
    # Approval is requested as the request is created: nobody has decided on it yet.
    decisions = (
        []
        if event == NotificationEvent.APPROVAL_REQUESTED
        else await PromotionDecision.filter(request_id=request.id)
        .select_related("user")
        .order_by("id")
    )
    approvers = tuple(person(d.user) for d in decisions if d.kind == DecisionKind.APPROVE)
    rejection = next((d for d in reversed(decisions) if d.kind == DecisionKind.REJECT), None)
    return content.RequestFacts(
        request_id=request.id,
        application=request.application.name,
        environment=request.target_environment.name,
        image=request.image.image,
        source=source,
        requester=person(request.requested_by),
        comment=request.comment,
        policy=request.policy_name,
        required_approvals=request.required_approvals,
        approvers=approvers,
        link=content.request_link(get_settings().public_url, request.id),
        rejected_by=person(rejection.user) if rejection else None,
        rejection_reason=rejection.comment if rejection else None,
        stale_reason=request.stale_reason,
        expires_at=request.expires_at,
        break_glass_reason=request.break_glass_reason,
        warnings=tuple(cel.describe(cel.ClauseResult(**w)) for w in request.warnings or []),
    )


async def recipients(request: PromotionRequest, event: NotificationEvent) -> list[User]:
    """Approvers for a new request (the promotionPreview set), else the requester if active.
    `request` comes with its policy, requester, application, environment and image."""
    if event == NotificationEvent.APPROVAL_REQUESTED:
        policy: PromotionPolicy | None = request.policy  # read with the request
        if policy is None:
            return []
        return await eligible_approvers(
            request.application.name,
            request.target_environment.name,
            policy,
            requester_id=request.requested_by_id,
            builder_ids=builders_of(request.image),
        )
    requester: User = request.requested_by
    return [requester] if requester.active else []


async def request_status_changed(request_id: int, status: PromotionStatus) -> None:
    """Called in the transaction of every request state change (and of its creation)."""
    event = _EVENTS.get(status)
    if event is None:
        return
    # The one read of the request: everything its emails and recipients need comes along.
    request = await PromotionRequest.get(id=request_id).select_related(
        "application", "target_environment", "image", "requested_by", "policy"
    )
    people = await recipients(request, event)
    if not people:
        log.warning(
            "promotion request %s is %s and nobody is there to email", request_id, status.value
        )
        return
    await write_emails(request, event, people)


async def write_emails(
    request: PromotionRequest,
    event: NotificationEvent,
    people: list[User],
    occurrence: int = 0,
    rollback: content.Rollback | None = None,
) -> int:
    """Render and write `event`'s email to each person, and the job that sends them; how
    many were new. `request` comes as `recipients` takes it; `rollback`: what a
    ROLLED_BACK email tells of the rollback."""
    facts = replace(await request_facts(request, event), rollback=rollback)
    # Due at once by the clock the delivery's time rules read (app.clock): with the system
    # time instead, a clock moved back or held still would never find them due.
    now = clock.now()
    # Approvers decide from the email itself where HOIST_EMAIL_ACTIONS lets them: links
    # minted now, one pair per person (app/notifications/links.py).
    to_approvers = event in content.TO_APPROVERS
    production = request.target_environment.production
    signer = await links.minting() if to_approvers and links.offered(production) else None
    note = (
        content.SIGN_IN_NOTE
        if to_approvers and signer is None and get_settings().email_actions == "non-production"
        else None
    )
    emails = []
    for person in people:
        decide = links.decision_links(signer, request, person, now) if signer else None
        email = content.render(event, facts, person.name, decide, note)
        emails.append(
            Notification(
                request_id=request.id,
                event=event,
                occurrence=occurrence,
                recipient=person.email,
                subject=email.subject,
                text_body=email.text,
                html_body=email.html,
                next_attempt_at=now,
            )
        )
    return await _store(emails)


async def _store(emails: list[Notification]) -> int:
    """Write the emails and the job that sends them; how many were new. One INSERT for
    all; a (request, recipient, event, occurrence) that has its email already (the change
    ran twice) is skipped there, not raised, so the change it is part of stands."""
    written = await insert_new(emails, "request_id", "recipient", "event", "occurrence")
    if written:
        await outbox.enqueue(SEND_JOB, notification_ids=[row.id for row in written])
    return len(written)


async def email_super_admins(
    event: NotificationEvent, subject: str, headline: str, rows: list[tuple[str, str]]
) -> int:
    """A notice to every active super-admin (no request: nothing to dedupe on, so the
    caller writes it only from the one transaction that made the change it tells of)."""
    admins = await User.filter(active=True, super_admin=True).order_by("email")
    link = f"{get_settings().public_url.rstrip('/')}/ui/"
    now = clock.now()
    emails = []
    for admin in admins:
        email = content.render_notice(subject, headline, rows, link, admin.name)
        emails.append(
            Notification(
                event=event,
                recipient=admin.email,
                subject=email.subject,
                text_body=email.text,
                html_body=email.html,
                next_attempt_at=now,
            )
        )
    return await _store(emails)


def list_notifications(access: Access, state: NotificationState | None) -> QuerySet[Notification]:
    """The emails in the state (None: any), for super-admins."""
    access.require_super_admin()
    return repository.notifications_in_state(state)
