"""The audit log: state changes with actor, time and data, for super-admins only."""

from __future__ import annotations

import json

from tests.conftest import People
from tests.promotions.world import World, build_world, request_row
from tests.support.graphql import GraphQLClient

AUDIT = """query($app: String, $actor: String, $action: String, $first: Int, $after: String) {
  auditLog(application: $app, actor: $actor, action: $action, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { action application environment data at actor { email } } } } }"""


async def log(world: World, **variables: object) -> dict:
    return (await world.gql(AUDIT, variables, token=world.admin))["auditLog"]


async def test_state_changes_are_logged_with_actor_and_data(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await build_world(gql, people, admin)
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    await world.decide(world.tokens["approver"], [request_row(r)], reason="not today")
    actions = [e["node"]["action"] for e in (await log(world, first=100))["edges"]]
    for expected in (
        "application.created",
        "environment.created",
        "workflow.created",
        "role.granted",
        "token.created",
        "policy.created",
        "policy.applied",
        "image.registered",
        "promotion.requested",
        "promotion.rejected",
    ):
        assert expected in actions, expected
    requested = (await log(world, action="promotion.requested"))["edges"][0]["node"]
    assert requested["actor"] == {"email": "dev@example.com"}
    assert (requested["application"], requested["environment"]) == ("shop", "prod")
    assert json.loads(requested["data"])["policy"] == "careful"


async def test_filters_and_paging(gql: GraphQLClient, people: People, admin: str) -> None:
    world = await build_world(gql, people, admin)
    await world.policy("careful", "prod", approver_count=1)
    await world.image()
    mine = await log(world, actor="approver@example.com")
    assert [e["node"]["action"] for e in mine["edges"]] == ["token.created"]
    prefix = await log(world, action="policy.")
    assert {e["node"]["action"] for e in prefix["edges"]} == {"policy.created", "policy.applied"}
    shop = await log(world, app="shop", first=2)
    assert shop["pageInfo"]["hasNextPage"] is True
    rest = await log(world, app="shop", first=100, after=shop["pageInfo"]["endCursor"])
    assert shop["totalCount"] == 2 + len(rest["edges"])
    assert all(e["node"]["application"] == "shop" for e in shop["edges"] + rest["edges"])


async def test_only_super_admins_read_it(gql: GraphQLClient, people: People, admin: str) -> None:
    world = await build_world(gql, people, admin)
    assert await world.gql.error_code(AUDIT, {}, token=world.tokens["viewer"]) == "FORBIDDEN"
