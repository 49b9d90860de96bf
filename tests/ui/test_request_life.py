"""The dashboard's side of issue 16 items 2-4: a policy's time limits written in its form
and listed, and a request page showing when it expires, the reminders, and which
approvals still count. Its own module, so its own server: it changes prod-hotfix."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from app.ids import row_id
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually
from tests.ui.conftest import SignIn
from tests.ui.scenario import READY_WITHIN_SECONDS, Shop

PROMOTE = (
    "mutation($image: ID!) { promoteImage(imageId: $image, source: {type: CI}, "
    'targetEnvironments: ["prod"]) { results { outcome request { id } } } }'
)
SAVED = '{ promotionPolicy(name: "prod-hotfix") { remindAfter } }'
APPROVE = (
    "mutation($id: ID!) { approvePromotionRequests(requestIds: [$id]) { results { outcome } } }"
)


def test_time_limits_in_the_form_and_on_the_request_page(
    shop: Shop, sign_in: SignIn, live_server: LiveServer
) -> None:
    admin = sign_in(shop.admin)
    admin.get_by_role("link", name="Policies").click()
    admin.get_by_role("link", name="prod-hotfix").click()
    admin.get_by_label("Approvals needed").fill("2")
    admin.get_by_label("Requests expire after").fill("72h")
    admin.get_by_label("Approvals stop counting after").fill("90m")
    admin.get_by_label("Remind undecided approvers every").fill("soon")
    admin.get_by_role("button", name="Save changes").click()
    remind = admin.locator(".field", has=admin.get_by_label("Remind undecided approvers every"))
    expect(remind.locator(".error")).to_contain_text("must be a duration")  # next to its field
    admin.get_by_label("Remind undecided approvers every").fill("8h")
    admin.get_by_role("button", name="Save changes").click()

    def saved() -> bool:  # the form stays on the page: ask the API when the save landed
        policy = shop.api(SAVED, shop.admin)["promotionPolicy"]
        return bool(policy["remindAfter"] == "8h")

    eventually(saved, "the policy saved", READY_WITHIN_SECONDS)
    admin.get_by_role("link", name="Promotion policies").click()
    expect(admin.locator('tr[data-policy="prod-hotfix"]')).to_contain_text(
        "expires after 3d, approvals count 1h30m, reminder every 8h (at most 2)"
    )

    [result] = shop.api(PROMOTE, shop.tokens["dana"], image=shop.images["1.4.1"])["promoteImage"][
        "results"
    ]
    request_id = result["request"]["id"]
    [decision] = shop.api(APPROVE, shop.tokens["avery"], id=request_id)["approvePromotionRequests"][
        "results"
    ]
    assert decision["outcome"] == "APPROVED"

    dana = sign_in(shop.tokens["dana"])
    dana.goto(f"{shop.url}/ui/#/requests/{request_id}")
    facts = dana.locator(".facts")
    expect(facts).to_contain_text("1/2 approval(s)")
    expect(facts.locator("dt")).to_contain_text(["Expires", "Reminders"])
    expect(facts).to_contain_text("0 sent, next")

    # Two hours pass for Avery's approval (the server's clock is the system's: the
    # approval is dated back instead): it stops counting, and the page says so.
    number = row_id(request_id, "PromotionRequest")
    with sqlite3.connect(live_server.data_dir / "hoist.sqlite3") as db:
        earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat(sep=" ")
        db.execute("UPDATE promotion_decisions SET at = ? WHERE request_id = ?", (earlier, number))
    dana.reload()
    expect(facts).to_contain_text("0/2 approval(s)")
    expect(facts.locator("li.aged")).to_contain_text("Avery Approver")
    expect(facts.locator("li.aged")).to_contain_text("no longer counts")
