"""Promotion window tests: the promotion world, a clock the test moves, windows by API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from app import clock as app_clock
from app.catalog.models import Trigger
from tests.conftest import People
from tests.notifications.conftest import mailbox, smtp_server
from tests.notifications.helpers import Clock
from tests.promotions.world import World, build_world
from tests.support.graphql import GraphQLClient

__all__ = ["mailbox", "smtp_server"]  # fixtures: the real SMTP server of notification tests

CREATE_WINDOW = """mutation($input: PromotionWindowInput!) {
  createPromotionWindow(input: $input) {
    window { name kind timeZone rrule duration startsAt dateRanges { start end }
      state { open opensAt closesAt closedBy } }
    errors { code field message } } }"""
APPLY_WINDOW = """mutation($window: String!, $pairs: [AppEnvInput!]!, $remove: Boolean) {
  applyPromotionWindow(window: $window, applicationEnvironments: $pairs, remove: $remove) {
    bindings { appName envName windowName } errors { code field message } } }"""


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Hoist's time rules read this clock during the test; the system clock afterwards."""
    fake = Clock()
    app_clock.set_source(fake.now)
    yield fake
    app_clock.set_source(None)


@pytest.fixture
async def world(gql: GraphQLClient, people: People, admin: str) -> World:
    return await build_world(gql, people, admin)


@pytest.fixture
async def auto_world(gql: GraphQLClient, people: People, admin: str) -> World:
    """The world with an AUTOMATIC prod pipeline: a promoted image deploys at once."""
    return await build_world(gql, people, admin, trigger=Trigger.AUTOMATIC)


def local(instant: datetime) -> str:
    """A UTC instant as a window's local date-time in the UTC zone."""
    return instant.replace(tzinfo=None).isoformat(timespec="seconds")


async def create_window(world: World, **values: Any) -> dict[str, Any]:
    data = await world.gql(CREATE_WINDOW, {"input": values}, token=world.admin)
    payload = data["createPromotionWindow"]
    assert payload["errors"] == [], payload
    return dict(payload["window"])


async def freeze(world: World, clock: Clock, hours: float, name: str = "freeze") -> datetime:
    """A DENY window on shop/prod from an hour ago until `hours` from now; when it ends."""
    ends = clock.now() + timedelta(hours=hours)
    await create_window(
        world,
        name=name,
        kind="DENY",
        timeZone="UTC",
        dateRanges=[{"start": local(clock.now() - timedelta(hours=1)), "end": local(ends)}],
    )
    data = await world.gql(
        APPLY_WINDOW,
        {"window": name, "pairs": [{"appName": "shop", "envName": "prod"}]},
        token=world.admin,
    )
    assert data["applyPromotionWindow"]["errors"] == [], data
    return ends.replace(microsecond=0)
