"""The pages an email's Approve and Reject links open: HTML made here, every value escaped.

They look like the dashboard (its stylesheet, its top bar) and live under the same strict
Content-Security-Policy: no script at all, no inline style, nothing from another origin.
The one difference is `form-action 'self'`, for the button that POSTs the decision.
What each refusal says is written here, in words, for the person who clicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from app import limits
from app.notifications.content import RequestFacts
from app.notifications.links import Refusal
from app.notifications.models import LinkAction
from app.promotions.models import PromotionStatus
from app.promotions.outcomes import DecisionOutcome
from app.ui.routes import SECURITY_HEADERS

_CSP = SECURITY_HEADERS["Content-Security-Policy"]
assert "form-action 'none'" in _CSP
PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": _CSP.replace("form-action 'none'", "form-action 'self'"),
    # The address holds the credential: kept by no cache, listed by no search engine.
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}


@dataclass(frozen=True)
class Words:
    """What a page says: a heading, a sentence, and the HTTP status it is served with."""

    title: str
    text: str
    status: int


def _at(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


_DASHBOARD = "Open the request in the dashboard to see where it stands."


def link_refusal(
    refusal: Refusal,
    action: LinkAction,
    *,
    used_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Words:
    """Why a link does nothing, for the link's own reasons."""
    if refusal == Refusal.TAMPERED:
        return Words(
            "This link is not valid",
            "It is not a link Hoist made, or it was changed or cut short on the way. "
            "Copy the whole link from the email, or decide in the dashboard.",
            400,
        )
    if refusal == Refusal.GONE:
        return Words(
            "This request no longer exists",
            "The promotion request, or your Hoist account, was deleted.",
            410,
        )
    if refusal == Refusal.USED:
        done = "approved" if action == LinkAction.APPROVE else "rejected"
        when = f" on {_at(used_at)}" if used_at else ""
        return Words(
            "This link was already used",
            f"You {done} this request with it{when}. Each link works once. {_DASHBOARD}",
            410,
        )
    if refusal == Refusal.EXPIRED:
        until = f" It worked until {_at(expires_at)}." if expires_at else ""
        return Words(
            "This link has expired",
            f"Links in approval emails work for a limited time.{until} "
            "Sign in to the dashboard to decide there.",
            410,
        )
    if refusal == Refusal.TURNED_OFF:
        return Words(
            "Deciding from email is turned off",
            "This Hoist no longer takes decisions from email links. "
            "Sign in to the dashboard to decide.",
            403,
        )
    if refusal == Refusal.SIGN_IN_REQUIRED:
        return Words(
            "Sign in to the dashboard to decide",
            "Decisions on production environments are made signed in to the dashboard, "
            "not from email links.",
            403,
        )
    return Words(
        "Your account is deactivated",
        "Your Hoist account is no longer active, so the links sent to you no longer work.",
        403,
    )


_STATUS_WORDS = {
    PromotionStatus.CANCELLED: "It was cancelled",
    PromotionStatus.REJECTED: "It was rejected",
    PromotionStatus.EXPIRED: "It expired before it was approved",
    PromotionStatus.STALE: "It went stale: its policy no longer applies",
    PromotionStatus.PROMOTING: "It has its approvals and is being promoted",
    PromotionStatus.PROMOTED: "It was promoted",
    PromotionStatus.QUEUED: "It has its approvals and waits for its promotion window",
}


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def rule_refusal(
    outcome: DecisionOutcome, message: str, status: PromotionStatus | None = None
) -> Words:
    """Why the decision would not (or did not) go through, by the promotion rules."""
    if outcome == DecisionOutcome.NOT_PENDING:
        said = _STATUS_WORDS.get(status) if status else None
        return Words(
            "This request is no longer awaiting approval",
            f"{said or _sentence(message)[:-1]}: there is nothing left to decide.",
            409,
        )
    if outcome == DecisionOutcome.NOT_FOUND:
        return link_refusal(Refusal.GONE, LinkAction.APPROVE)
    if outcome == DecisionOutcome.FORBIDDEN:
        return Words(
            "You can no longer decide on this request",
            f"You no longer hold the role it takes: {message}.",
            403,
        )
    if outcome == DecisionOutcome.STALE:
        return Words(
            "This request can no longer be approved",
            f"Its policy no longer governs the target: {message}.",
            409,
        )
    if outcome == DecisionOutcome.ALREADY_APPROVED:
        return Words(
            "You have already approved this request",
            f"Your approval counts; there is nothing more to do. {_DASHBOARD}",
            409,
        )
    return Words("You may not approve this request", _sentence(message), 403)


def done(action: LinkAction, outcome: DecisionOutcome, message: str) -> Words:
    """What a decision that went through did."""
    if action == LinkAction.REJECT:
        return Words("You rejected the request", "The requester is told, with your reason.", 200)
    if outcome == DecisionOutcome.PROMOTING:
        return Words(
            "You approved the request",
            "It has all the approvals it needs: the image is being promoted.",
            200,
        )
    if outcome == DecisionOutcome.QUEUED:
        return Words(
            "You approved the request",
            "It has all the approvals it needs; its target's promotion window is closed, so "
            f"it is queued and promoted once the window opens ({message}).",
            200,
        )
    return Words("You approved the request", f"Your approval is recorded: {message}.", 200)


def _facts(facts: RequestFacts, production: bool, link_expires_at: datetime | None) -> str:
    approvals = f"{len(facts.approvers)} of {facts.required_approvals}"
    if facts.approvers:
        approvals += f" ({', '.join(facts.approvers)})"
    target = escape(facts.environment)
    if production:
        target += ' <span class="badge prod">production</span>'
    rows = [
        ("Application", escape(facts.application)),
        ("Target environment", target),
        ("Image", f"<code>{escape(facts.image)}</code>"),
        ("Source", escape(facts.source)),
        ("Requested by", escape(facts.requester)),
        ("Comment", escape(facts.comment or "(none)")),
        ("Policy", escape(facts.policy)),
        ("Approvals so far", escape(approvals)),
    ]
    if facts.expires_at is not None:
        rows.append(("Request expires", escape(_at(facts.expires_at))))
    if link_expires_at is not None:
        rows.append(("This link works until", escape(_at(link_expires_at))))
    cells = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="facts">{cells}</dl>'


def _form(action: LinkAction, error: str | None, typed: str) -> str:
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    if action == LinkAction.REJECT:
        field = (
            '<div class="field"><label for="reason">Reason (the requester reads it)</label>'
            f'<textarea id="reason" name="reason" rows="3" required '
            f'maxlength="{limits.REASON}">{escape(typed)}</textarea></div>'
        )
        button = '<button class="danger" type="submit">Reject the request</button>'
    else:
        field = (
            '<div class="field"><label for="comment">Comment (optional)</label>'
            f'<textarea id="comment" name="comment" rows="2" '
            f'maxlength="{limits.COMMENT}">{escape(typed)}</textarea></div>'
        )
        button = '<button class="primary" type="submit">Approve the request</button>'
    # No action attribute: the form posts back to this very address, the link.
    return f'<form method="post">{problem}{field}<div class="actions">{button}</div></form>'


def page(
    action: LinkAction,
    *,
    facts: RequestFacts | None = None,
    production: bool = False,
    link_expires_at: datetime | None = None,
    words: Words | None = None,
    form: bool = False,
    error: str | None = None,
    typed: str = "",
    dashboard: str | None = None,
) -> str:
    """One page: the decision's heading or `words`, the request's facts when the reader
    may see them, the form when the link may be used, a way to the dashboard."""
    verb = "Approve" if action == LinkAction.APPROVE else "Reject"
    if words is not None:
        heading = words.title
        tone = "ok" if words.status == 200 else "warn"
        notice = f'<p class="notice {tone}" role="status">{escape(words.text)}</p>'
    else:
        target = f" to {facts.environment}" if facts else ""
        heading = f"{verb} the promotion{target}?"
        notice = (
            f'<p class="notice">{escape(facts.requester)} asks to promote an image of '
            f"{escape(facts.application)}{escape(target)}. Nothing is decided until you "
            "press the button below.</p>"
            if facts
            else ""
        )
    body = notice
    if facts is not None:
        body += _facts(facts, production, link_expires_at if form else None)
    if form:
        body += _form(action, error, typed)
    if dashboard:
        body += (
            f'<p class="small"><a href="{escape(dashboard)}">'
            "Open the request in the dashboard</a></p>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(heading)} · Hoist</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/ui/static/hoist.css">'
        '</head><body><header class="topbar"><a class="brand" href="/ui/">Hoist</a></header>'
        f'<main class="email-decision"><div class="card"><h1>{escape(heading)}</h1>{body}'
        "</div></main></body></html>"
    )
