"""Approve or reject from the email (issue 16 item 1).

Every test goes the way a person does: the email arrives over real SMTP (aiosmtpd), the
links are parsed out of it, and they are opened (GET) and used (POST) over HTTP against
the ASGI app. Time is the test's clock.
"""

from __future__ import annotations

import asyncio
import re
from itertools import count
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from app import limits
from app.accounts.access import SYSTEM
from app.accounts.models import Role, User
from app.accounts.service import revoke_role
from app.audit.models import AuditEvent
from app.db import unit_of_work
from app.ids import global_id
from app.notifications import links as email_links
from app.notifications.content import SIGN_IN_NOTE
from app.notifications.models import EmailLinkKey, EmailLinkUse, Notification
from app.outbox.models import OutboxJob
from app.outbox.service import run_sweeps
from app.promotions.models import PromotionDecision, PromotionRequest
from app.settings import Settings
from app.ui.routes import SECURITY_HEADERS
from tests.notifications.helpers import PUBLIC_URL, Clock, configure
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import CANCEL, CI, PROMOTE, World, drain, request_row, results
from tests.support.graphql import GraphQLClient

HOUR = 3600
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/email/(approve|reject)/[A-Za-z0-9_.\-]+)")
APPROVER = "approver@example.com"
_tags = count(1)


async def _promote(world: World, target: str = "prod", comment: str = "hotfix") -> int:
    data = await world.gql(
        PROMOTE,
        {
            "image": global_id("Image", await world.image(f"1.{next(_tags)}")),
            "source": CI,
            "targets": [target],
            "comment": comment,
        },
        token=world.tokens["dev"],
    )
    [result] = results(data["promoteImage"])
    assert result["outcome"] == "AWAITING_APPROVAL", result
    return request_row(result)


async def _links(mailbox: Mailbox, address: str = APPROVER, nth: int = -1) -> dict[str, str]:
    """The Approve and Reject paths in the `nth` email `address` received, read from its
    text part; the HTML part must carry the same ones."""
    await drain()
    email = mailbox.to(address)[nth]
    found = {action: path for path, action in LINK.findall(email.text)}
    assert set(found) == {"approve", "reject"}, email.text
    assert {action: path for path, action in LINK.findall(email.html)} == found
    return found


async def _state() -> dict[str, Any]:
    """Everything a decision could change."""
    return {
        "requests": await PromotionRequest.all()
        .order_by("id")
        .values_list("id", "status", "updated_at", "open_key"),
        "decisions": await PromotionDecision.all().order_by("id").values_list("id", "kind", "at"),
        "audit": await AuditEvent.all().count(),
        "uses": await EmailLinkUse.all().count(),
        "keys": await EmailLinkKey.all().values_list("key", flat=True),
        "emails": await Notification.all().count(),
        "jobs": await OutboxJob.all().count(),
    }


def _text(response: httpx.Response) -> str:
    """The page's words, without its markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


async def test_an_approver_approves_from_the_email_once_and_the_audit_log_says_how(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    request_id = await _promote(world, comment="<b>urgent</b> & important")
    links = await _links(mailbox)

    page = await gql.http.get(links["approve"])
    assert page.status_code == 200
    words = _text(page)
    for fact in ("registry.example.com/shop:1.", "CI", "dev@example.com", "gate", "0 of 1"):
        assert fact in words, fact
    assert "&lt;b&gt;urgent&lt;/b&gt; &amp; important" in page.text  # shown as text
    assert '<form method="post">' in page.text and "Approve the request" in page.text

    done = await gql.http.post(links["approve"], data={"comment": "looks good"})
    assert done.status_code == 200, done.text
    assert "You approved the request" in _text(done)
    assert await world.request_status(request_id) == "PROMOTING"
    [decision] = await PromotionDecision.filter(request_id=request_id)
    assert decision.user_id == world.user_ids["approver"] and decision.comment == "looks good"
    records = await AuditEvent.filter(action__in=["promotion.approved", "promotion.promoting"])
    assert {r.action for r in records} == {"promotion.approved", "promotion.promoting"}
    for record in records:
        assert record.actor_id == world.user_ids["approver"]
        assert record.data["via"] == "email_link", record.data

    before = await _state()
    again = await gql.http.post(links["approve"], data={})
    assert again.status_code == 410 and "This link was already used" in _text(again)
    assert "You approved this request with it on" in _text(again)
    reopened = await gql.http.get(links["approve"])
    assert reopened.status_code == 410 and "<form" not in reopened.text
    assert await _state() == before


async def test_a_decision_in_the_dashboard_has_no_via(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=2)
    request_id = await _promote(world)
    await world.decide(world.tokens["approver"], [request_id])
    [record] = await AuditEvent.filter(action="promotion.approved")
    assert "via" not in record.data


async def test_opening_links_changes_nothing(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    request_id = await _promote(world)
    links = await _links(mailbox)
    before = await _state()
    for path in links.values():
        for _ in range(3):  # a scanner, a preview pane, the person
            assert (await gql.http.get(path)).status_code == 200
            assert (await gql.http.head(path)).status_code == 200
    assert await _state() == before
    assert await world.request_status(request_id) == "AWAITING_APPROVAL"


async def test_the_pages_keep_the_dashboards_strict_content_security_policy(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    await _promote(world)
    links = await _links(mailbox)
    for response in (
        await gql.http.get(links["reject"]),
        await gql.http.get("/email/approve/not-a-token"),
        await gql.http.post(links["reject"], data={"reason": ""}),
    ):
        policy = response.headers["content-security-policy"]
        dashboard = SECURITY_HEADERS["Content-Security-Policy"]
        assert policy == dashboard.replace("form-action 'none'", "form-action 'self'")
        assert "unsafe-inline" not in policy
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        # The dashboard's look, and nothing inline for the policy to refuse.
        assert '<link rel="stylesheet" href="/ui/static/hoist.css">' in response.text
        assert "<script" not in response.text and "style=" not in response.text
        assert "<style" not in response.text


async def test_a_reject_asks_for_its_reason_and_the_requester_reads_it(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    request_id = await _promote(world)
    links = await _links(mailbox)
    page = await gql.http.get(links["reject"])
    assert '<textarea id="reason" name="reason"' in page.text and "required" in page.text

    before = await _state()
    refused = await gql.http.post(links["reject"], data={"reason": "   "})
    assert refused.status_code == 400 and "Say why you reject it." in _text(refused)
    assert await _state() == before

    too_long = await gql.http.post(links["reject"], data={"reason": "x" * (limits.REASON + 1)})
    assert too_long.status_code == 400 and "<form" in too_long.text
    assert await _state() == before

    done = await gql.http.post(links["reject"], data={"reason": "not on a Friday"})
    assert done.status_code == 200 and "You rejected the request" in _text(done)
    assert await world.request_status(request_id) == "REJECTED"
    [record] = await AuditEvent.filter(action="promotion.rejected")
    assert record.data["via"] == "email_link"
    await drain()
    [told] = mailbox.to("dev@example.com")
    assert "not on a Friday" in told.text and "approver@example.com" in told.text
    # The approve link of the same email finds nothing left to decide.
    late = await gql.http.get(links["approve"])
    assert late.status_code == 409 and "It was rejected" in _text(late)


async def test_a_link_expires_after_the_ttl(
    world: World, gql: GraphQLClient, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    request_id = await _promote(world)
    links = await _links(mailbox)
    clock.advance(71 * HOUR)  # HOIST_EMAIL_LINK_TTL: 72 h by default
    assert "<form" in (await gql.http.get(links["approve"])).text
    clock.advance(HOUR + 1)
    before = await _state()
    for response in (await gql.http.get(links["approve"]), await gql.http.post(links["approve"])):
        assert response.status_code == 410
        assert "This link has expired" in _text(response) and "<form" not in response.text
    assert await _state() == before
    assert await world.request_status(request_id) == "AWAITING_APPROVAL"


async def test_the_ttl_setting_shortens_links(
    world: World,
    gql: GraphQLClient,
    mailbox: Mailbox,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, email_link_ttl="2h")
    await world.policy("gate", "prod", approver_count=1)
    await _promote(world)
    links = await _links(mailbox)
    clock.advance(2 * HOUR + 1)
    assert "This link has expired" in _text(await gql.http.get(links["reject"]))


async def test_a_link_never_outlives_its_request(
    world: World, gql: GraphQLClient, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("timed", "prod", approver_count=1, request_timeout_seconds=HOUR)
    request_id = await _promote(world)
    links = await _links(mailbox)
    clock.advance(HOUR)  # the request's deadline, before any sweep has run
    before = await _state()
    expired = await gql.http.post(links["approve"])
    assert expired.status_code == 410 and "This link has expired" in _text(expired)
    assert await _state() == before
    await run_sweeps()
    assert await world.request_status(request_id) == "EXPIRED"
    assert (await gql.http.post(links["approve"])).status_code == 410
    assert await PromotionDecision.all().count() == 0


async def test_a_link_with_one_byte_changed_does_nothing(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    request_id = await _promote(world)
    links = await _links(mailbox)
    prefix, token = links["approve"].rsplit("/", 1)
    before = await _state()
    for i, char in enumerate(token):
        for other in {"A" if char != "A" else "B", "-" if char != "-" else "_"}:
            changed = f"{prefix}/{token[:i]}{other}{token[i + 1 :]}"
            response = await gql.http.post(changed, data={})
            assert response.status_code == 400, (i, other, response.text)
            assert "This link is not valid" in _text(response)
    # The right token on the other action's address, or cut short.
    for path in (f"/email/reject/{token}", f"{prefix}/{token[:-1]}", f"{prefix}/{token}x"):
        assert (await gql.http.post(path, data={"reason": "x"})).status_code == 400
    assert await _state() == before
    assert await world.request_status(request_id) == "AWAITING_APPROVAL"
    assert (await gql.http.get(links["approve"])).status_code == 200  # the real one still works


async def test_a_link_of_a_user_whose_role_was_revoked_does_nothing(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    request_id = await _promote(world)
    links = await _links(mailbox)
    async with unit_of_work():
        await revoke_role(SYSTEM, APPROVER, Role.ARTIFACT_PROMOTER, "shop", "prod")
    before = await _state()
    for response in (await gql.http.get(links["approve"]), await gql.http.post(links["approve"])):
        assert response.status_code == 403
        words = _text(response)
        assert "You no longer hold the role it takes" in words and "ARTIFACT_PROMOTER" in words
        assert "registry.example.com" not in words  # they may no longer see the request
    assert await _state() == before
    assert await world.request_status(request_id) == "AWAITING_APPROVAL"


async def test_a_link_of_a_deactivated_user_does_nothing(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    await _promote(world)
    links = await _links(mailbox)
    await User.filter(email=APPROVER).update(active=False)
    before = await _state()
    response = await gql.http.post(links["approve"])
    assert response.status_code == 403 and "Your account is deactivated" in _text(response)
    assert await _state() == before


async def test_a_link_after_the_request_was_cancelled_does_nothing(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    request_id = await _promote(world)
    links = await _links(mailbox)
    cancelled = await world.gql(
        CANCEL, {"id": global_id("PromotionRequest", request_id)}, token=world.tokens["dev"]
    )
    assert cancelled["cancelPromotionRequest"]["errors"] == []
    before = await _state()
    for response in (await gql.http.get(links["approve"]), await gql.http.post(links["approve"])):
        assert response.status_code == 409
        words = _text(response)
        assert "This request is no longer awaiting approval" in words
        assert "It was cancelled" in words
    assert await _state() == before


async def test_a_request_whose_policy_was_replaced_says_so(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    await _promote(world)
    links = await _links(mailbox)
    await world.policy("other", "prod", approver_count=1)  # replaces gate on the pair
    response = await gql.http.get(links["approve"])
    assert response.status_code == 409 and "<form" not in response.text
    assert "It went stale: its policy no longer applies" in _text(response)


async def test_production_decisions_can_be_kept_to_the_dashboard(
    world: World, gql: GraphQLClient, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.policy("gate", "prod", "dev", approver_count=1)
    await world.user("devapprover", (Role.ARTIFACT_PROMOTER, "shop", "dev"))
    await _promote(world)
    minted = await _links(mailbox)  # while every environment's links worked

    configure(monkeypatch, email_actions="non-production")
    before = await _state()
    for response in (await gql.http.get(minted["approve"]), await gql.http.post(minted["approve"])):
        assert response.status_code == 403
        assert "Sign in to the dashboard to decide" in _text(response)
    assert await _state() == before

    mailbox.clear()
    await _promote(world, target="dev")
    await _promote(world, target="prod")
    await drain()
    [dev_email] = mailbox.to("devapprover@example.com")
    assert LINK.search(dev_email.text)  # not production: links as usual
    [prod_email] = mailbox.to(APPROVER)
    assert not LINK.search(prod_email.text) and not LINK.search(prod_email.html)
    assert SIGN_IN_NOTE in prod_email.text


async def test_with_email_actions_off_there_are_no_links_and_old_ones_stop(
    world: World, gql: GraphQLClient, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    await _promote(world)
    links = await _links(mailbox)
    configure(monkeypatch, email_actions="off")
    response = await gql.http.post(links["approve"])
    assert response.status_code == 403 and "Deciding from email is turned off" in _text(response)

    mailbox.clear()
    await world.policy("gate2", "staging", approver_count=1)
    await world.user("stagingapprover", (Role.ARTIFACT_PROMOTER, "shop", "staging"))
    await _promote(world, target="staging")
    await drain()
    [email] = mailbox.to("stagingapprover@example.com")
    assert "/email/" not in email.text and "/email/" not in email.html
    assert SIGN_IN_NOTE not in email.text


async def test_a_reminder_carries_links_that_share_one_use_with_the_first_emails(
    world: World, gql: GraphQLClient, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("nagging", "prod", approver_count=2, remind_after_seconds=HOUR)
    request_id = await _promote(world)
    first = await _links(mailbox)
    clock.advance(HOUR + 1)
    await run_sweeps()
    reminder = await _links(mailbox, nth=-1)
    assert reminder != first  # minted anew, with the reminder's own expiry
    assert "Reminder" in mailbox.to(APPROVER)[-1].subject
    done = await gql.http.post(reminder["approve"])
    assert done.status_code == 200 and "1 of 2" in _text(done)
    used = await gql.http.post(first["approve"])
    assert used.status_code == 410 and "already used" in _text(used)
    assert await PromotionDecision.filter(request_id=request_id).count() == 1


async def test_links_are_signed_by_the_configured_key_when_there_is_one(
    world: World, gql: GraphQLClient, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    await _promote(world)
    stored = await _links(mailbox)  # signed with the key kept in the database
    assert await EmailLinkKey.all().count() == 1

    configure(monkeypatch, secret_key=_secret("a key of our own"))
    assert (await gql.http.get(stored["approve"])).status_code == 400
    mailbox.clear()
    await world.policy("gate2", "staging", approver_count=1)
    await world.user("stagingapprover", (Role.ARTIFACT_PROMOTER, "shop", "staging"))
    await _promote(world, target="staging")
    signed = await _links(mailbox, "stagingapprover@example.com")
    assert (await gql.http.get(signed["approve"])).status_code == 200
    configure(monkeypatch, secret_key=_secret("another key"))
    assert (await gql.http.get(signed["approve"])).status_code == 400


def _secret(value: str) -> SecretStr:
    return SecretStr(value)


async def test_a_decision_already_made_in_the_dashboard_is_said(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    await world.policy("gate", "prod", approver_count=2)
    request_id = await _promote(world)
    links = await _links(mailbox)
    await world.decide(world.tokens["approver"], [request_id])
    before = await _state()
    response = await gql.http.post(links["approve"])
    assert response.status_code == 409
    assert "You have already approved this request" in _text(response)
    assert await _state() == before


async def test_two_uses_of_one_link_at_once_decide_once(
    world: World, gql: GraphQLClient, mailbox: Mailbox, db: str
) -> None:
    if db == "sqlite":
        pytest.skip("one process's two SQLite transactions wait on each other (STACK-NOTES)")
    await world.policy("gate", "prod", approver_count=2)
    request_id = await _promote(world)
    links = await _links(mailbox)
    first, second = await asyncio.gather(
        gql.http.post(links["approve"]), gql.http.post(links["approve"])
    )
    assert sorted([first.status_code, second.status_code]) == [200, 410], (first.text, second.text)
    assert await PromotionDecision.filter(request_id=request_id).count() == 1
    assert await EmailLinkUse.all().count() == 1


async def test_a_key_made_in_a_transaction_that_rolled_back_is_not_kept(
    world: World, gql: GraphQLClient, mailbox: Mailbox
) -> None:
    with pytest.raises(RuntimeError):
        async with unit_of_work():
            await email_links.minting()
            raise RuntimeError("the promote failed")
    assert await EmailLinkKey.all().count() == 0
    await world.policy("gate", "prod", approver_count=1)
    await _promote(world)
    links = await _links(mailbox)
    # Another process reads the key from the database: the links must be its links too.
    [stored] = await EmailLinkKey.all()
    token = links["approve"].rsplit("/", 1)[1]
    assert email_links.Signer(stored.key).read(token) is not None


@pytest.mark.parametrize(
    ("written", "seconds"), [("72h", 72 * HOUR), ("3d", 72 * HOUR), ("5", 5 * HOUR), ("90m", 5400)]
)
def test_the_link_ttl_is_a_duration_or_hours(written: str, seconds: int) -> None:
    assert Settings(email_link_ttl=written).email_link_ttl_seconds == seconds


@pytest.mark.parametrize("written", ["0", "0h", "soon", "-3", "72 hours"])
def test_a_link_ttl_that_is_no_duration_is_refused(written: str) -> None:
    with pytest.raises(ValidationError, match="is not a duration"):
        Settings(email_link_ttl=written)
