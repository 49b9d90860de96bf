"""The Insights page (issue 19 item 4): the figures and the inline SVG charts of the
delivery history in tests/insights/delivery_world.py, picked with the page's controls,
photographed for the README (`make screenshots`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.live_server import LiveServer
from tests.ui.conftest import Shoot, SignIn
from tests.ui.scenario import Api, Shop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shop(live_server: LiveServer) -> Iterator[Shop]:
    """This module's world: the delivery history, written straight into the server's
    SQLite file with its timestamps (no API could backdate them), instead of the
    dashboard tests' shop."""
    database = f"sqlite://{live_server.data_dir / 'hoist.sqlite3'}"
    subprocess.run(
        [sys.executable, "-m", "tests.insights.delivery_world", database],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    shop = Shop(api=Api(live_server.url), url=live_server.url, admin=live_server.token)
    yield shop
    shop.api.close()


def test_the_insights_page_charts_the_weeks(shop: Shop, sign_in: SignIn, shoot: Shoot) -> None:
    page = sign_in(shop.admin)
    page.get_by_role("link", name="Insights").click()
    page.get_by_label("Application").select_option("shop")
    page.get_by_label("Environment").select_option("prod")
    page.get_by_label("From").fill("2026-11-02")
    page.get_by_label("Until (included)").fill("2026-11-22")
    page.get_by_role("button", name="Show").click()

    figures = {
        "lead-p50": "1 h",
        "lead-p90": "1 d",
        "approval-wait": "1 h / 3 h",
        "skip-share": "41.7 %",  # 5 of 12
        "rollback-share": "15.4 %",  # 2 of 13
    }
    for key, value in figures.items():
        expect(page.locator(f'[data-figure="{key}"] .figure-value')).to_have_text(value)
    expect(page.locator('[data-figure="skip-share"]')).to_contain_text("5 of 12")
    expect(page.locator('[data-figure="rollback-share"]')).to_contain_text("2 of 13")

    lead = page.get_by_role("img", name="Lead time per week (shop, prod)")
    expect(lead.locator(".x-tick")).to_have_text(["2026-11-02", "2026-11-09", "2026-11-16"])
    for series in ("p50", "p90"):
        expect(lead.locator(f'[data-series="{series}"] circle')).to_have_count(3)
        expect(lead.locator(f'[data-series="{series}"] polyline')).to_have_count(1)
    expect(lead.locator('[data-series="p90"] circle title').last).to_have_text(
        "p90, week of 2026-11-16: 1 d"
    )

    bars = page.get_by_role("img", name="Promotions per week by outcome (shop, prod)")
    expect(bars.locator("rect.bar")).to_have_count(9)  # 3 outcomes in each of 3 weeks
    promoted = bars.locator('rect[data-status="PROMOTED"]')
    expect(promoted).to_have_count(2)
    assert [promoted.nth(i).get_attribute("data-count") for i in range(2)] == ["3", "2"]
    expect(bars.locator("rect.bar title").first).to_have_text("Week of 2026-11-02: 3 PROMOTED")
    shoot(page, "13-insights")

    # Every environment: staging's deployment and requests join in.
    page.get_by_label("Environment").select_option("")
    page.get_by_role("button", name="Show").click()
    expect(page.locator('[data-figure="rollback-share"]')).to_contain_text("2 of 14")
    expect(
        page.get_by_role("img", name="Lead time per week (shop, all environments)")
    ).to_be_visible()

    # A range over a year is refused by the server, its message shown by the controls.
    page.get_by_label("From").fill("2025-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".insights-controls .error")).to_contain_text("at most 366 days")
