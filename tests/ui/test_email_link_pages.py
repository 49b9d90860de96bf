"""An approval email's links in a real browser: `hoist serve` sends the email over real
SMTP (aiosmtpd), Chromium opens the link from it, and the page works under the
dashboard's strict Content-Security-Policy (its stylesheet applies, nothing is refused,
the form posts)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.notifications.mailbox import SmtpServer
from tests.support.live_server import LiveServer, running_server
from tests.support.waiting import eventually
from tests.ui.conftest import VIEWPORT, Shoot
from tests.ui.scenario import READY_WITHIN_SECONDS, Shop, build_shop

PROMOTE = (
    "mutation($image: ID!) { promoteImage(imageId: $image, source: {type: CI}, "
    'targetEnvironments: ["prod"], comment: "VAT <b>hotfix</b>") '
    "{ results { outcome request { id } } errors { message } } }"
)
AVERY = "avery@example.com"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mailing_server(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[LiveServer]:
    """The embedded default, sending its emails to the test's SMTP server."""
    with running_server(
        tmp_path_factory.mktemp("email-links"),
        HOIST_EMAIL_BACKEND="smtp",
        HOIST_SMTP_HOST="127.0.0.1",
        HOIST_SMTP_PORT=str(smtp.port),
        HOIST_SMTP_SECURITY="none",
        HOIST_LOG_LEVEL="INFO",  # with the access log, which must not show link tokens
    ) as server:
        yield server


def test_an_approver_approves_from_the_email_in_a_browser(
    mailing_server: LiveServer, smtp: SmtpServer, browser: Browser, shoot: Shoot
) -> None:
    shop = build_shop(mailing_server.url, mailing_server.token)
    try:
        _approve_from_the_email(mailing_server, smtp, browser, shoot, shop)
    finally:
        shop.api.close()


def _approve_from_the_email(
    mailing_server: LiveServer, smtp: SmtpServer, browser: Browser, shoot: Shoot, shop: Shop
) -> None:
    [result] = shop.api(PROMOTE, shop.tokens["dana"], image=shop.images["1.4.1"])["promoteImage"][
        "results"
    ]
    assert result["outcome"] == "AWAITING_APPROVAL", result
    eventually(lambda: smtp.mailbox.to(AVERY), "the approval email", READY_WITHIN_SECONDS)
    [email] = smtp.mailbox.to(AVERY)
    link = re.compile(re.escape(mailing_server.url) + r"/email/(approve|reject)/[\w.\-]+")
    links = {m.group(1): m.group(0) for m in link.finditer(email.text)}
    assert set(links) == {"approve", "reject"}, email.text
    assert {m.group(1): m.group(0) for m in link.finditer(email.html)} == links

    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    console: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: console.extend(_said(message)))
    # The refusal pages answer 409 or 410 (Chromium logs that); their stylesheet must load.
    page.on(
        "response",
        lambda r: console.extend(
            [f"{r.status} {r.url}"]
            if r.request.resource_type != "document" and r.status >= 400
            else []
        ),
    )
    page.on("pageerror", lambda error: console.append(str(error)))
    try:
        page.goto(links["approve"])
        expect(page.get_by_role("heading", level=1)).to_have_text("Approve the promotion to prod?")
        # The dashboard's stylesheet applies: its dark top bar, its card.
        topbar = page.locator(".topbar")
        assert topbar.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(20, 26, 38)"
        facts = page.locator(".facts")
        expect(facts).to_contain_text("registry.example.com/shop:1.4.1")
        expect(facts).to_contain_text("VAT <b>hotfix</b>")  # typed markup shows as text
        expect(facts.locator("b")).to_have_count(0)
        assert shop.request_status(result["request"]["id"]) == "AWAITING_APPROVAL"
        shoot(page, "email-link-approve")

        page.get_by_label("Comment (optional)").fill("checked the invoice run")
        page.get_by_role("button", name="Approve the request").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You approved the request")
        expect(page.locator(".notice")).to_contain_text("the image is being promoted")
        eventually(
            lambda: shop.request_status(result["request"]["id"]) == "PROMOTED",
            "the promotion",
            READY_WITHIN_SECONDS,
        )

        page.goto(links["approve"])
        expect(page.get_by_role("heading", level=1)).to_have_text("This link was already used")
        page.goto(links["reject"])
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "This request is no longer awaiting approval"
        )
        expect(page.locator("form")).to_have_count(0)
    finally:
        context.close()
    # A refused stylesheet, inline style or form post would be reported here.
    assert not console, console
    log = (mailing_server.data_dir / "server.log").read_text()
    assert '"GET /email/approve/<token> HTTP/1.1" 200' in log
    assert '"POST /email/approve/<token> HTTP/1.1" 200' in log
    for url in links.values():
        assert url.rsplit("/", 1)[1] not in log


def _said(message: ConsoleMessage) -> list[str]:
    if message.text.startswith("Failed to load resource: the server responded"):
        return []  # the document's own status; a subresource's is caught by its response
    return [f"{message.type}: {message.text}"]
