"""The dashboard and promotion windows: the Policies page lists, creates (applied to pairs)
and deletes windows; the Promote dialog shows a closed window and when it opens, and offers
break glass (issue 16 item 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.ui.conftest import SignIn
from tests.ui.scenario import Shop


def test_windows_on_the_policies_page_and_in_the_promote_dialog(
    shop: Shop, sign_in: SignIn
) -> None:
    today = datetime.now(UTC).date()
    admin = sign_in(shop.admin)
    admin.get_by_role("link", name="Policies").click()
    section = admin.get_by_role("region", name="Promotion windows")
    expect(section).to_contain_text("No promotion window")

    # A bad zone is refused, naming the field; nothing is created.
    section.get_by_text("New promotion window").click()
    section.get_by_label("Window name").fill("ui-freeze")
    section.get_by_label("Time zone").fill("Mars/Olympus")
    section.get_by_label("Date range from").fill((today - timedelta(days=1)).isoformat())
    section.get_by_label("Date range until").fill((today + timedelta(days=7)).isoformat())
    section.get_by_label("Apply to").fill("shop/prod")
    section.get_by_role("button", name="Create window").click()
    expect(section.locator(".error")).to_contain_text("is not an IANA time zone")
    expect(section).to_contain_text("No promotion window")

    section.get_by_label("Time zone").fill("UTC")
    section.get_by_role("button", name="Create window").click()
    row = admin.locator('tr[data-window="ui-freeze"]')
    expect(row).to_contain_text("DENY")
    expect(row).to_contain_text("shop/prod")
    expect(row.locator(".state")).to_contain_text("closed, opens")

    # The Promote dialog shows the closed window on prod and offers break glass.
    dana = sign_in(shop.tokens["dana"])
    dana.get_by_role("link", name="shop").click()
    dana.locator('[data-workflow="main"]').get_by_role("button", name="Promote").click()
    dialog = dana.get_by_role("dialog")
    dialog.locator('.image-card[data-tag="1.4.1"]').get_by_role("button", name="Select").click()
    dialog.get_by_role("button", name="Promote to…").click()
    prod = dialog.locator('.target[data-env="prod"]')
    expect(prod.locator(".window")).to_contain_text("Promotion window closed (ui-freeze): opens")
    expect(prod).to_contain_text("approvals are collected meanwhile")
    expect(dialog.locator('.target[data-env="staging"] .window')).to_have_count(0)
    prod.get_by_role("checkbox").check()
    dialog.get_by_label("Break glass (optional)").fill("payments are down")
    dialog.get_by_role("button", name="Promote Image").click()
    result = dialog.locator('.result[data-env="prod"]')
    expect(result).to_contain_text("AWAITING_APPROVAL")
    expect(result).to_contain_text("2 approval(s) (break glass)")
    # The request's page says it breaks glass, and when its pair's window opens.
    result.get_by_role("link", name="view request").click()
    facts = dana.locator("dl.facts")
    expect(facts).to_contain_text("payments are down")
    expect(facts).to_contain_text("closed, opens")
    expect(facts).to_contain_text("(ui-freeze)")

    # Deleting the window from the Policies page.
    admin.reload()
    row = admin.locator('tr[data-window="ui-freeze"]')
    row.get_by_role("button", name="Delete").click()
    expect(admin.locator('tr[data-window="ui-freeze"]')).to_have_count(0)
    expect(admin.get_by_role("region", name="Promotion windows")).to_contain_text(
        "No promotion window"
    )
