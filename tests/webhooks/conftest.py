"""Webhook tests: a real HTTP receiver on loopback (so private addresses are allowed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app import clock as app_clock
from tests.conftest import People
from tests.notifications.helpers import Clock, configure
from tests.promotions.world import World, build_world
from tests.support.graphql import GraphQLClient

PUBLIC_URL = "https://hoist.example.com"


@pytest.fixture
async def world(gql: GraphQLClient, people: People, admin: str) -> World:
    return await build_world(gql, people, admin)


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Endpoints on 127.0.0.1 allowed, as HOIST_WEBHOOK_ALLOW_PRIVATE=true would."""
    configure(monkeypatch, webhook_allow_private=True, public_url=PUBLIC_URL)


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    app_clock.set_source(fake.now)
    yield fake
    app_clock.set_source(None)
