"""hoist_webhook_deliveries_total counts each try of an event webhook by its result."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from app import clock as app_clock
from app.outbox.service import run_sweeps
from tests.notifications.helpers import Clock, configure
from tests.promotions.world import World
from tests.support.deployer import Deployer
from tests.webhooks.conftest import PUBLIC_URL
from tests.webhooks.test_webhooks import _endpoint, _promote_to_prod


def tries(result: str) -> float:
    return REGISTRY.get_sample_value("hoist_webhook_deliveries_total", {"result": result}) or 0.0


async def test_each_try_is_counted_by_result(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, webhook_allow_private=True, public_url=PUBLIC_URL)
    fake = Clock()
    app_clock.set_source(fake.now)
    before = {result: tries(result) for result in ("delivered", "error_status", "no_answer")}
    try:
        with Deployer(answers=[503]) as receiver:
            await _endpoint(world, receiver.url, eventTypes=["dev.hoist.promotion.promoted"])
            await _promote_to_prod(world)
            await run_sweeps()  # answered 503
            fake.advance(10 + 1)  # HOIST_WEBHOOK_RETRY_BASE_SECONDS
            await run_sweeps()  # delivered
    finally:
        app_clock.set_source(None)
    assert len(receiver.received) == 2
    assert {result: tries(result) - before[result] for result in before} == {
        "delivered": 1,
        "error_status": 1,
        "no_answer": 0,
    }
