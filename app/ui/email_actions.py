"""The door for an email's Approve and Reject links: /email/approve/<token>, /email/reject/<token>.

No sign-in: the signed link is the credential (app/notifications/links.py). GET shows the
request and a button, and writes nothing, because mail scanners open links. POST takes
the decision as the link's recipient, through the same service functions as
`approvePromotionRequests` / `rejectPromotionRequests`, so every rule is checked again
at that moment; the link is marked used in that same transaction, and the audit
records say the decision came through an email link (`data.via = "email_link"`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from app import ids
from app.accounts.access import Access
from app.db import in_unit_of_work
from app.errors import DomainError, DomainErrors
from app.notifications import content, links
from app.notifications.links import Opened
from app.notifications.models import LinkAction
from app.notifications.service import request_facts
from app.observability.redaction import hide_link_tokens
from app.promotions import service as promotions
from app.promotions.deciding import decision_blocker
from app.promotions.models import DecisionKind
from app.promotions.outcomes import DecisionOutcome
from app.settings import get_settings
from app.ui import email_pages
from app.ui.email_pages import Words

VIA = "email_link"
_KINDS = {LinkAction.APPROVE: DecisionKind.APPROVE, LinkAction.REJECT: DecisionKind.REJECT}
_TAKEN = {
    DecisionOutcome.APPROVED,
    DecisionOutcome.PROMOTING,
    DecisionOutcome.QUEUED,  # the quorum reached while the pair's promotion window is closed
    DecisionOutcome.REJECTED,
}
# The promotion rules' refusals that still let the recipient see the request's facts.
_STILL_VISIBLE = {
    DecisionOutcome.NOT_PENDING,
    DecisionOutcome.STALE,
    DecisionOutcome.ALREADY_APPROVED,
    DecisionOutcome.REQUESTER_CANNOT_APPROVE,
    DecisionOutcome.BUILDER_CANNOT_APPROVE,
}


@dataclass
class _Checked:
    opened: Opened
    access: Access | None
    words: Words | None  # why the link does nothing now; None: it may be used
    show_facts: bool


async def _check(token: str, action: LinkAction) -> _Checked:
    """The link's own checks, then the promotion rules for its recipient; reads only."""
    opened = await links.open_link(token, action)
    if opened.refusal is not None:
        claim = opened.claim
        words = email_pages.link_refusal(
            opened.refusal,
            action,
            used_at=opened.use.used_at if opened.use else None,
            expires_at=claim.expires_at if claim else None,
        )
        return _Checked(opened, None, words, False)
    assert opened.claim is not None and opened.user is not None and opened.request is not None
    access = await Access.of(opened.user, via=VIA)
    blocker = await decision_blocker(access, opened.claim.request_id, _KINDS[action])
    if blocker is None:
        return _Checked(opened, access, None, True)
    if (use := await links.use_of(opened.claim)) is not None:
        # Used while this was being checked (the other tab's decision committed between
        # the reads): that is the news, not what the decision changed.
        words = email_pages.link_refusal(links.Refusal.USED, action, used_at=use.used_at)
        return _Checked(opened, access, words, False)
    outcome, message = blocker
    words = email_pages.rule_refusal(outcome, message, opened.request.status)
    return _Checked(opened, access, words, outcome in _STILL_VISIBLE)


async def _render(
    checked: _Checked,
    action: LinkAction,
    *,
    words: Words | None = None,
    error: str | None = None,
    typed: str = "",
    status: int | None = None,
) -> Response:
    request, claim = checked.opened.request, checked.opened.claim
    words = words or checked.words
    form = words is None
    facts = None
    if request is not None and (checked.show_facts or (words is not None and words.status == 200)):
        facts = await request_facts(request)
    dashboard = (
        content.request_link(get_settings().public_url, request.id)
        if request is not None and claim is not None
        else None
    )
    html = email_pages.page(
        action,
        facts=facts,
        production=bool(request and request.target_environment.production),
        link_expires_at=claim.expires_at if claim else None,
        words=words,
        form=form,
        error=error,
        typed=typed,
        dashboard=dashboard,
    )
    code = status or (words.status if words else 200)
    return HTMLResponse(html, status_code=code, headers=email_pages.PAGE_HEADERS)


async def show(request: Request, action: LinkAction) -> Response:
    """GET: the page of a link; nothing is written, whoever opens it."""
    checked = await _check(request.path_params["token"], action)
    return await _render(checked, action)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


async def decide(request: Request, action: LinkAction) -> Response:
    """POST: take the link's decision as its recipient, if every rule still allows it."""
    token = request.path_params["token"]
    form = await _form(request)
    typed = form.get("reason" if action == LinkAction.REJECT else "comment", "")
    try:
        # A decision is a read then writes: SQLite may refuse the write lock to it while a
        # separate worker writes; in_unit_of_work runs it again from the start then.
        return await in_unit_of_work(lambda: _decide(token, action, typed))
    except (DomainError, DomainErrors) as exc:
        # Input the service refused (too long): rolled back whole; the form again.
        checked = await _check(token, action)
        return await _render(checked, action, error=str(exc), typed=typed, status=400)


async def _decide(token: str, action: LinkAction, typed: str) -> Response:
    checked = await _check(token, action)
    if checked.words is not None:
        return await _render(checked, action)  # nothing was written
    if action == LinkAction.REJECT and not typed.strip():
        return await _render(
            checked, action, error="Say why you reject it.", typed=typed, status=400
        )
    claim, access = checked.opened.claim, checked.access
    assert claim is not None and access is not None
    use = await links.record_use(claim)
    if use is None:  # the same link, used a moment ago in another tab
        checked = await _check(token, action)
        return await _render(checked, action)
    request_id = ids.global_id("PromotionRequest", claim.request_id)
    if action == LinkAction.APPROVE:
        [result] = await promotions.approve(access, [request_id], typed.strip() or None)
    else:
        [result] = await promotions.reject(access, [request_id], typed)
    if result.outcome not in _TAKEN:
        # Refused at the last moment (a race with another change): not used after all.
        await links.forget_use(use)
        status = result.request.status if result.request else None
        refused = email_pages.rule_refusal(result.outcome, result.message, status)
        checked.show_facts = result.outcome in _STILL_VISIBLE
        return await _render(checked, action, words=refused)
    words = email_pages.done(action, result.outcome, result.message)
    return await _render(checked, action, words=words)


def _endpoint(action: LinkAction) -> Callable[[Request], Awaitable[Response]]:
    async def link_page(request: Request) -> Response:
        if request.method == "POST":
            return await decide(request, action)
        return await show(request, action)

    return link_page


class RedactLinkTokens(logging.Filter):
    """Access logs show `/email/approve/<token>`, never the token: until it is used or
    expires, a link is a credential, and a log reader must not be able to use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                hide_link_tokens(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactLinkTokens) for f in access.filters):
        access.addFilter(RedactLinkTokens())


def email_routes() -> list[BaseRoute]:
    """The link pages' routes, for create_app() (HEAD comes with GET); the server's
    access log stops showing their tokens."""
    _redact_access_log()
    return [
        Route(f"/email/{action.value}/{{token}}", _endpoint(action), methods=["GET", "POST"])
        for action in LinkAction
    ]
