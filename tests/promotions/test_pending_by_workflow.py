"""pendingApprovals(workflow:): the dashboard's Promote dialog lists one workflow's requests."""

from __future__ import annotations

from app.accounts.access import SYSTEM
from app.catalog import service as catalog
from app.db import unit_of_work
from tests.promotions.world import World

PENDING = """query($app: String, $workflow: String) {
  pendingApprovals(application: $app, workflow: $workflow, pendingWithMe: false) {
    totalCount edges { node { id image { workflow { name } } targetEnvironment { name } } }
  }
}"""


async def test_requests_of_one_workflow(world: World) -> None:
    async with unit_of_work():
        await catalog.create_environment(SYSTEM, "qa", False)
        await catalog.create_workflow(
            SYSTEM, "shop", "hotfix", "shop-hotfix-ci", [catalog.CdPipelineSpec("qa")]
        )
        side = await catalog.register_image(
            SYSTEM,
            "shop",
            "hotfix",
            "registry.example.com/shop:hf-1",
            None,
            [],
            [],
            "builder@example.com",
        )
    await world.policy("careful", "prod", "qa", approver_count=1)
    [main_request] = await world.promote(world.tokens["dev"], await world.image("1.0"), ["prod"])
    [side_request] = await world.promote(world.tokens["dev"], side.id, ["qa"])

    async def ids(**variables: str) -> list[str]:
        data = await world.gql(PENDING, variables, token=world.tokens["approver2"])
        return [e["node"]["id"] for e in data["pendingApprovals"]["edges"]]

    assert await ids(app="shop", workflow="main") == [main_request["request"]["id"]]
    assert await ids(app="shop", workflow="hotfix") == [side_request["request"]["id"]]
    assert await ids(app="shop") == [side_request["request"]["id"], main_request["request"]["id"]]
    assert await ids(app="shop", workflow="nope") == []
