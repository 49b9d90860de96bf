"""What the emails say: subject, plain text and HTML, from the facts of one request.

Every value in the HTML part goes through html.escape: comments, reasons and names
come from users, and an email client must show them as text, never run them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from app import ids
from app.notifications.models import NotificationEvent


@dataclass(frozen=True)
class RequestFacts:
    """What an email about one promotion request tells, read when the event happens."""

    request_id: int
    application: str
    environment: str
    image: str
    source: str
    requester: str
    comment: str | None
    policy: str
    required_approvals: int
    approvers: tuple[str, ...]
    link: str
    rejected_by: str | None = None
    rejection_reason: str | None = None
    stale_reason: str | None = None
    # When an awaiting request expires (its policy's requestTimeout); None: never.
    expires_at: datetime | None = None
    # The requester's reason for breaking glass (a closed promotion window); None: none.
    break_glass_reason: str | None = None
    # The rollback that replaced the request's image (ROLLED_BACK emails only).
    rollback: Rollback | None = None
    # A WARN policy's failed clauses the request went ahead with, one line each.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rollback:
    """What a rollback email adds to its request's facts: who rolled back, to which image."""

    by: str
    restored_image: str
    deployment_id: str  # the rollback deployment's id, as the API shows it


@dataclass(frozen=True)
class DecisionLinks:
    """The Approve and Reject links of one approver's email (app/notifications/links.py)."""

    approve: str
    reject: str
    expires_at: datetime


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


_SUBJECTS = {
    NotificationEvent.APPROVAL_REQUESTED: "Image promotion approval requested",
    NotificationEvent.PROMOTED: "Image promoted",
    NotificationEvent.REJECTED: "Image promotion rejected",
    NotificationEvent.STALE: "Image promotion request is stale",
    NotificationEvent.REMINDER: "Reminder: image promotion approval requested",
    NotificationEvent.EXPIRED: "Image promotion request expired",
    NotificationEvent.ROLLED_BACK: "Promoted image rolled back",
}


# The emails that ask approvers to decide (the others tell the requester an outcome).
TO_APPROVERS = frozenset({NotificationEvent.APPROVAL_REQUESTED, NotificationEvent.REMINDER})


def request_link(public_url: str, request_id: int) -> str:
    """The dashboard's page of a request: <HOIST_PUBLIC_URL>/ui/requests/<id>, with the
    request's global id percent-encoded (base64 may hold '/', '+' and '=')."""
    gid = quote(ids.global_id("PromotionRequest", request_id), safe="")
    return f"{public_url.rstrip('/')}/ui/requests/{gid}"


def subject(event: NotificationEvent, facts: RequestFacts) -> str:
    """`<what happened> | Application: <app> | Target environment: <env>`, led by
    `BREAK GLASS:` for a break-glass request's approvers."""
    glass = "BREAK GLASS: " if facts.break_glass_reason and event in TO_APPROVERS else ""
    return (
        f"{glass}{_SUBJECTS[event]} | Application: {facts.application} | "
        f"Target environment: {facts.environment}"
    )


def _headline(event: NotificationEvent, facts: RequestFacts) -> str:
    if event == NotificationEvent.APPROVAL_REQUESTED:
        return (
            f"{facts.requester} asks to promote an image to {facts.environment}. "
            "You can approve or reject the request."
        )
    if event == NotificationEvent.PROMOTED:
        return f"Your promotion request #{facts.request_id} is done: the image was promoted."
    if event == NotificationEvent.REJECTED:
        return (
            f"Your promotion request #{facts.request_id} was rejected by "
            f"{facts.rejected_by or 'an approver'}."
        )
    if event == NotificationEvent.REMINDER:
        return (
            f"{facts.requester} asked to promote an image to {facts.environment}, and it "
            "still awaits your decision. You can approve or reject the request."
        )
    if event == NotificationEvent.ROLLED_BACK and facts.rollback is not None:
        return (
            f"The image your promotion request #{facts.request_id} brought to "
            f"{facts.environment} was rolled back by {facts.rollback.by}: "
            f"{facts.rollback.restored_image} is deployed there again in its place."
        )
    if event == NotificationEvent.EXPIRED:
        return (
            f"Your promotion request #{facts.request_id} expired: it was not approved "
            "within its policy's time limit. Promote the image again if it is still needed."
        )
    return (
        f"Your promotion request #{facts.request_id} is stale: it can no longer be "
        "approved. Promote the image again if it is still needed."
    )


def _reason(event: NotificationEvent, facts: RequestFacts) -> tuple[str, str] | None:
    """The line that says why, for the outcomes that have one."""
    if event == NotificationEvent.REJECTED:
        return "Reason", facts.rejection_reason or "(none given)"
    if event == NotificationEvent.STALE:
        return "Reason", facts.stale_reason or "(none recorded)"
    if event == NotificationEvent.ROLLED_BACK and facts.rollback is not None:
        return "Rolled back to", facts.rollback.restored_image
    return None


def _details(event: NotificationEvent, facts: RequestFacts) -> list[tuple[str, str]]:
    approvals = f"{len(facts.approvers)} of {facts.required_approvals}"
    if facts.approvers:
        approvals += f" ({', '.join(facts.approvers)})"
    rows = [
        ("Application", facts.application),
        ("Target environment", facts.environment),
        ("Image", facts.image),
        ("Source", facts.source),
        ("Requested by", facts.requester),
        ("Comment", facts.comment or "(none)"),
        ("Policy", facts.policy),
        ("Approvals", approvals),
    ]
    if facts.warnings:
        rows.append(("Policy warnings", "; ".join(facts.warnings)))
    if facts.break_glass_reason is not None:
        rows.insert(0, ("Break glass", facts.break_glass_reason))
    if facts.rollback is not None:
        rows += [
            ("Rolled back by", facts.rollback.by),
            ("Rollback deployment", facts.rollback.deployment_id),
        ]
    if facts.expires_at is not None and event in TO_APPROVERS:
        rows.append(("Expires", f"{facts.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"))
    reason = _reason(event, facts)
    return [reason, *rows] if reason else rows


# Said under an approver's links; and instead of them where HOIST_EMAIL_ACTIONS keeps
# production decisions to the dashboard.
SIGN_IN_NOTE = "Decisions on production environments are made signed in to the dashboard."


def _links_note(links: DecisionLinks) -> str:
    return (
        "These links are yours alone and each works once, until "
        f"{links.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC. Opening one changes "
        "nothing: the page it shows asks you to confirm."
    )


def _text(
    greeting: str,
    headline: str,
    rows: list[tuple[str, str]],
    link: str,
    links: DecisionLinks | None,
    note: str | None,
    link_label: str = "Open the request",
) -> str:
    width = max(len(label) for label, _ in rows) + 2
    lines = [greeting, "", headline, ""]
    lines += [f"{label + ':':<{width}}{value}" for label, value in rows]
    lines.append("")
    if links is not None:
        lines += [f"Approve: {links.approve}", f"Reject:  {links.reject}", _links_note(links), ""]
    if note is not None:
        lines += [note, ""]
    lines += [f"{link_label}: {link}", "", "-- Hoist"]
    return "\n".join(lines) + "\n"


_BUTTON = "display:inline-block;padding:6px 14px;border-radius:6px;text-decoration:none;color:#fff"


def _html(
    greeting: str,
    headline: str,
    rows: list[tuple[str, str]],
    link: str,
    links: DecisionLinks | None,
    note: str | None,
    link_label: str = "Open the request",
) -> str:
    cells = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{escape(label)}</th>'
        f'<td style="white-space:pre-wrap">{escape(value)}</td></tr>'
        for label, value in rows
    )
    actions = ""
    if links is not None:
        actions = (
            f'<p><a href="{escape(links.approve)}" style="{_BUTTON};background:#2459d1">'
            "Approve</a> &nbsp; "
            f'<a href="{escape(links.reject)}" style="{_BUTTON};background:#c0352b">Reject</a></p>'
            f'<p style="font-size:12px;color:#667085">{escape(_links_note(links))}</p>'
        )
    if note is not None:
        actions += f"<p>{escape(note)}</p>"
    return (
        '<!DOCTYPE html><html><body style="font-family:sans-serif">'
        f"<p>{escape(greeting)}</p><p>{escape(headline)}</p>"
        f"<table>{cells}</table>{actions}"
        f'<p><a href="{escape(link)}">{escape(link_label)}</a></p>'
        "<p>-- Hoist</p></body></html>"
    )


def render(
    event: NotificationEvent,
    facts: RequestFacts,
    recipient_name: str,
    links: DecisionLinks | None = None,
    note: str | None = None,
) -> Email:
    """The email about `event` for one recipient: subject, plain text and HTML; an
    approver's carries their Approve and Reject `links` when they may decide from it."""
    greeting = f"Hello {recipient_name},"
    headline = _headline(event, facts)
    rows = _details(event, facts)
    return Email(
        subject=subject(event, facts),
        text=_text(greeting, headline, rows, facts.link, links, note),
        html=_html(greeting, headline, rows, facts.link, links, note),
    )


def render_notice(
    subject: str, headline: str, rows: list[tuple[str, str]], link: str, recipient_name: str
) -> Email:
    """An operator's notice to a super-admin (not about one request), e.g. a webhook
    endpoint that Hoist switched off; `link` leads to where it is dealt with."""
    greeting = f"Hello {recipient_name},"
    label = "Open Hoist"
    return Email(
        subject=subject,
        text=_text(greeting, headline, rows, link, None, None, label),
        html=_html(greeting, headline, rows, link, None, None, label),
    )
