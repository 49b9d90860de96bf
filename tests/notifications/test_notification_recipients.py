"""Who gets which email (SPEC §7), read back from a real SMTP server."""

from __future__ import annotations

from urllib.parse import quote

from app.accounts.models import Role, User
from app.ids import global_id
from app.notifications.models import NotificationEvent, NotificationState
from tests.notifications.helpers import PUBLIC_URL, SENDER, notifications
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import CI, PROMOTE, World, drain, env_source, request_row

PREVIEW = """query($image: ID!, $source: ImageSourceInput!, $targets: [String!]!) {
  promotionPreview(imageId: $image, source: $source, targetEnvironments: $targets) {
    eligibleApprovers { email } } }"""
CANCEL = """mutation($id: ID!) { cancelPromotionRequest(requestId: $id) { errors { message } } }"""
APPROVAL_SUBJECT = (
    "Image promotion approval requested | Application: shop | Target environment: prod"
)


async def promote(
    world: World,
    token: str,
    image: int,
    comment: str = "hotfix",
    source: dict[str, str] | None = None,
) -> int:
    data = await world.gql(
        PROMOTE,
        {
            "image": global_id("Image", image),
            "source": source or CI,
            "targets": ["prod"],
            "comment": comment,
        },
        token=token,
    )
    [result] = data["promoteImage"]["results"]
    assert result["request"], result
    return request_row(result)


async def test_one_email_to_each_eligible_approver_and_nobody_else(
    world: World, mailbox: Mailbox
) -> None:
    # Blocked by the policy's flags, though they hold the role: the builder, the requester.
    await world.user(
        "maker", (Role.BUILD_DEPLOY, "shop", "*"), (Role.ARTIFACT_PROMOTER, "shop", "*")
    )
    await world.user(
        "asker", (Role.BUILD_DEPLOY, "shop", "*"), (Role.ARTIFACT_PROMOTER, "shop", "prod")
    )
    await world.user("elsewhere", (Role.ARTIFACT_PROMOTER, "shop", "staging"))
    await world.user("gone", (Role.ARTIFACT_PROMOTER, "shop", "prod"))
    await User.filter(email="gone@example.com").update(active=False)
    await world.policy("careful", "prod", approver_count=2)
    image = await world.image(built_by="maker")
    preview = await world.gql(
        PREVIEW,
        {"image": global_id("Image", image), "source": CI, "targets": ["prod"]},
        token=world.tokens["asker"],
    )
    eligible = sorted(u["email"] for u in preview["promotionPreview"][0]["eligibleApprovers"])

    request_id = await promote(world, world.tokens["asker"], image)
    await drain()

    # The super-admin (admin@example.com, no role) is not emailed for being one.
    assert mailbox.recipients() == eligible == ["approver2@example.com", "approver@example.com"]
    assert all(len(m.rcpt_tos) == 1 for m in mailbox.received)  # nobody sees the others
    for blocked in ("admin", "maker", "asker", "elsewhere", "gone"):
        assert mailbox.to(f"{blocked}@example.com") == [], blocked
    rows = await notifications(request_id=request_id)
    assert [(r.event, r.state, r.attempts) for r in rows] == [
        (NotificationEvent.APPROVAL_REQUESTED, NotificationState.SENT, 1)
    ] * 2
    assert all(r.sent_at is not None and r.error is None for r in rows)


async def test_policy_flags_that_allow_it_email_the_requester_and_builder(
    world: World, mailbox: Mailbox
) -> None:
    await world.user(
        "maker", (Role.BUILD_DEPLOY, "shop", "*"), (Role.ARTIFACT_PROMOTER, "shop", "prod")
    )
    await world.policy(
        "relaxed",
        "prod",
        approver_count=1,
        allow_request_from_approve=True,
        allow_image_builder_from_approve=True,
    )
    image = await world.image(built_by="maker")
    await promote(world, world.tokens["maker"], image)
    await drain()
    assert mailbox.recipients() == [
        "approver2@example.com",
        "approver@example.com",
        "maker@example.com",
    ]


async def test_approval_email_says_what_is_asked_in_both_parts(
    world: World, mailbox: Mailbox
) -> None:
    await world.policy("careful", "prod", approver_count=2)
    image = await world.image("2.5")
    await world.pass_stages(image, "staging")
    request_id = await promote(
        world, world.tokens["dev"], image, comment="fixes checkout", source=env_source("staging")
    )
    await drain()
    [email] = mailbox.to("approver@example.com")
    assert email.subject == APPROVAL_SUBJECT
    assert email.mail_from == "hoist@example.com" and email.message["From"] == SENDER
    # The link holds the request's global id, percent-encoded (its base64 may end in "=").
    link = f"{PUBLIC_URL}/ui/requests/{quote(global_id('PromotionRequest', request_id), safe='')}"
    text, html = email.text, email.html
    for part, requester in ((text, "dev <dev@example.com>"), (html, "dev &lt;dev@example.com&gt;")):
        for fact in (
            "registry.example.com/shop:2.5",
            "staging",
            "prod",
            "shop",
            requester,
            "fixes checkout",
            "0 of 2",
            link,
        ):
            assert fact in part, (fact, part)
    assert f'href="{link}"' in html
    assert "Source:" in text and "staging" in text.split("Source:")[1].splitlines()[0]


async def test_user_values_are_escaped_in_the_html_part(world: World, mailbox: Mailbox) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    comment = '<script>alert("x")</script> & <b>bold</b>'
    await promote(world, world.tokens["dev"], image, comment=comment)
    await drain()
    [email] = mailbox.to("approver@example.com")
    assert "<script>" not in email.html and "<b>bold</b>" not in email.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in email.html
    assert comment in email.text  # the plain part shows it as written


async def test_promoted_emails_the_requester_only(world: World, mailbox: Mailbox) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    request_id = await promote(world, world.tokens["dev"], image)
    await drain()
    mailbox.clear()
    [r] = await world.decide(world.tokens["approver"], [request_id])
    assert r["outcome"] == "PROMOTING"
    await drain()  # the promote job, then the email it wrote
    assert await world.request_status(request_id) == "PROMOTED"
    [email] = mailbox.received
    assert email.rcpt_tos == ["dev@example.com"]
    assert email.subject == "Image promoted | Application: shop | Target environment: prod"
    assert "was promoted" in email.text and "1 of 1 (approver <approver@example.com>)" in email.text


async def test_no_approvals_needed_emails_only_the_promotion(
    world: World, mailbox: Mailbox
) -> None:
    await world.policy("fast-lane", "prod")
    image = await world.image()
    request_id = await promote(world, world.tokens["dev"], image)
    await drain()
    assert await world.request_status(request_id) == "PROMOTED"
    assert [(m.rcpt_tos, m.subject.split(" |")[0]) for m in mailbox.received] == [
        (["dev@example.com"], "Image promoted")
    ]


async def test_rejection_tells_the_requester_who_and_why(world: World, mailbox: Mailbox) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    request_id = await promote(world, world.tokens["dev"], image)
    await drain()
    mailbox.clear()
    await world.decide(world.tokens["approver2"], [request_id], reason="CVE-2024-1234 <unfixed>")
    await drain()
    [email] = mailbox.received
    assert email.rcpt_tos == ["dev@example.com"]
    assert email.subject.startswith("Image promotion rejected | Application: shop")
    assert "rejected by approver2 <approver2@example.com>" in email.text
    assert "CVE-2024-1234 <unfixed>" in email.text
    assert "CVE-2024-1234 &lt;unfixed&gt;" in email.html


async def test_stale_tells_the_requester_why(world: World, mailbox: Mailbox) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    request_id = await promote(world, world.tokens["dev"], image)
    await drain()
    mailbox.clear()
    await world.gql(
        'mutation { deletePromotionPolicy(name: "careful") { deleted } }', token=world.admin
    )
    assert await world.request_status(request_id) == "STALE"
    await drain()
    [email] = mailbox.received
    assert email.rcpt_tos == ["dev@example.com"]
    assert email.subject.startswith("Image promotion request is stale | Application: shop")
    assert "deleted" in email.text  # the stale reason the policy change recorded


async def test_cancelling_emails_nobody(world: World, mailbox: Mailbox) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    request_id = await promote(world, world.tokens["dev"], image)
    await drain()
    mailbox.clear()
    data = await world.gql(
        CANCEL, {"id": global_id("PromotionRequest", request_id)}, token=world.tokens["dev"]
    )
    assert data["cancelPromotionRequest"]["errors"] == []
    await drain()
    assert mailbox.received == []
    assert {r.event for r in await notifications()} == {NotificationEvent.APPROVAL_REQUESTED}
