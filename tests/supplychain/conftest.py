from __future__ import annotations

import pytest

from tests.conftest import People
from tests.promotions.world import World, build_world
from tests.support.graphql import GraphQLClient


@pytest.fixture
async def world(gql: GraphQLClient, people: People, admin: str) -> World:
    return await build_world(gql, people, admin)
