"""The dashboard goes live: one user's approval appears in another user's open Approval
Pending tab without a reload, and a request's page, Build & Deploy and Deployment History
follow changes made elsewhere (GraphQL over SSE from the page, app/ui/static/js/live.js)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import SignIn
from tests.ui.scenario import Shop

PROMOTE_TO = """mutation($i: ID!, $env: String!) { promoteImage(imageId: $i, source: {type: CI},
  targetEnvironments: [$env], comment: "live") { results { request { id } } } }"""

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


def test_a_request_page_follows_a_decision_made_elsewhere(sign_in: SignIn, shop: Shop) -> None:
    [result] = shop.api(PROMOTE_TO, shop.tokens["dana"], i=shop.images["1.4.0"], env="staging")[
        "promoteImage"
    ]["results"]
    request_id = result["request"]["id"]
    dana = sign_in(shop.tokens["dana"])
    dana.goto(f"{shop.url}/ui/#/requests/{request_id}")
    facts = dana.locator("dl.facts")
    expect(facts).to_contain_text("AWAITING_APPROVAL")
    expect(dana.locator(".live-state")).to_have_text("live")

    shop.api(APPROVE, shop.tokens["avery"], ids=[request_id])
    expect(facts).to_contain_text("Avery Approver")
    expect(facts).to_contain_text("PROMOTED")
    expect(dana.locator(".live-state")).to_have_text("live")


def test_build_deploy_and_history_show_a_new_deployment_without_a_reload(
    sign_in: SignIn, shop: Shop
) -> None:
    dana = sign_in(shop.tokens["dana"])
    dana.get_by_role("link", name="shop").click()
    dev = dana.locator('[data-workflow="main"] [data-env="dev"] .last-deployed')
    expect(dev).to_contain_text("1.4.1")
    expect(dana.locator(".live-state")).to_have_text("live")

    # CI registers an image: dev deploys it automatically, and the open page follows.
    shop.register("1.4.2", ["stable"], "77aa01c3de", "Faster search")
    expect(dev).to_contain_text("1.4.2")
    expect(dev).to_contain_text("SUCCEEDED")

    dana.goto(f"{shop.url}/ui/#/apps/shop/envs/dev/history")
    expect(dana.locator(".live-state")).to_have_text("live")
    rows = dana.locator(".history-row")
    expect(rows.first).to_contain_text("1.4.2")
    shop.register("1.4.3", ["stable"], "0c9d2e41ab", "Cache the catalogue")
    expect(rows.first).to_contain_text("1.4.3")
    expect(rows.first).to_contain_text("SUCCEEDED")
