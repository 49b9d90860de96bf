"""The dashboard goes live: one user's approval appears in another user's open Approval
Pending tab without a reload (GraphQL over SSE from the page, app/ui/static/js/live.js)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import SignIn
from tests.ui.scenario import Shop

PROMOTE = """mutation($i: ID!) { promoteImage(imageId: $i, source: {type: CI},
  targetEnvironments: ["prod"], comment: "live") { results { request { id } } } }"""
APPROVE = """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids) {
  results { outcome } } }"""


def test_an_approval_appears_in_an_open_approval_pending_tab(sign_in: SignIn, shop: Shop) -> None:
    dana = sign_in(shop.tokens["dana"])
    dana.get_by_role("link", name="shop").click()
    dana.locator('[data-workflow="main"]').get_by_role("button", name="Promote").click()
    dialog = dana.get_by_role("dialog")
    dialog.get_by_role("tab", name="Approval Pending").click()
    dialog.get_by_label("Only those pending with me").uncheck()
    expect(dialog.locator(".live-state")).to_have_text("live")
    expect(dialog.locator(".empty")).to_have_text("No request awaits approval.")

    # Dana's request, made elsewhere (the API), shows up in her open tab...
    [result] = shop.api(PROMOTE, shop.tokens["dana"], i=shop.images["1.4.1"])["promoteImage"][
        "results"
    ]
    request_id = result["request"]["id"]
    row = dialog.locator(f'tr[data-request="{request_id}"]')
    expect(row).to_contain_text("0/1 approval(s)")

    # ... and Avery's approval, made in another session, takes it out of the list.
    shop.api(APPROVE, shop.tokens["avery"], ids=[request_id])
    expect(row).to_have_count(0)
    expect(dialog.locator(".empty")).to_have_text("No request awaits approval.")
    expect(dialog.locator(".live-state")).to_have_text("live")
