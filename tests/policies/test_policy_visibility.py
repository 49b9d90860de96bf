"""A policy reached through one application does not reveal the others it governs."""

from __future__ import annotations

from app.accounts.access import SYSTEM
from app.accounts.models import Role
from app.catalog.service import CdPipelineSpec, create_application, create_workflow
from app.db import unit_of_work
from app.policies.service import Pair, PolicyFields, apply_policy, create_policy
from tests.conftest import People
from tests.promotions.world import build_world
from tests.support.graphql import GraphQLClient

QUERY = """{ application(name: "shop") { workflows { cdPipelines { environment { name }
  policy { name bindings { appName envName } } } } } }"""


async def test_bindings_are_filtered_to_visible_applications(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await build_world(gql, people, admin)
    async with unit_of_work():
        await create_application(SYSTEM, "secret-app")
        await create_workflow(SYSTEM, "secret-app", "main", "ci", [CdPipelineSpec("prod")])
        await create_policy(SYSTEM, PolicyFields(name="shared"))
        await apply_policy(SYSTEM, "shared", [Pair("shop", "prod"), Pair("secret-app", "prod")])
    data = await gql(QUERY, token=world.tokens["viewer"])
    prod = data["application"]["workflows"][0]["cdPipelines"][2]
    assert prod["policy"]["bindings"] == [{"appName": "shop", "envName": "prod"}]
    everywhere = await people.token("all@example.com", (Role.VIEWER, "*", "*"))
    data = await gql(QUERY, token=everywhere)
    prod = data["application"]["workflows"][0]["cdPipelines"][2]
    assert len(prod["policy"]["bindings"]) == 2
