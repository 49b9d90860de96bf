"""Delivery insights from records made the ordinary way: CI registers an image with its
commit times, it is promoted with an approval, deployed (the noop executor runs it) and
rolled back; the figures count what happened. Durations here depend on how long the test
takes, so they are bounded, not exact (tests/insights/test_delivery_insights.py has the
exact figures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.catalog.models import Image
from tests.conftest import People
from tests.deployments.conftest import make_world
from tests.deployments.test_rollback import deployed, rollback
from tests.insights.test_delivery_insights import INSIGHTS, _plain
from tests.promotions.world import drain, env_source, request_row
from tests.support.graphql import GraphQLClient
from tests.support.ids import row

REGISTER = """mutation($input: RegisterImageInput!) { registerImage(input: $input) {
  image { id gitCommits { commitHash committedAt } } errors { code message field } } }"""


async def test_insights_of_a_promotion_a_deployment_and_a_rollback(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    await world.policy("careful", "prod", approver_count=1)
    now = datetime.now(UTC)
    older, newest = now - timedelta(hours=3), now - timedelta(hours=1)
    registered = (
        await gql(
            REGISTER,
            {
                "input": {
                    "application": "shop",
                    "workflow": "main",
                    "image": "registry.example.com/shop:2.0",
                    "gitCommits": [
                        # Without a zone: UTC. With one: the same instant in UTC.
                        {
                            "repo": "https://git.example.com/a",
                            "commitHash": "a1",
                            "committedAt": older.replace(tzinfo=None).isoformat(),
                        },
                        {
                            "repo": "https://git.example.com/b",
                            "commitHash": "b1",
                            "committedAt": newest.astimezone(
                                datetime.now().astimezone().tzinfo
                            ).isoformat(),
                        },
                    ],
                }
            },
            token=world.tokens["builder"],
        )
    )["registerImage"]
    assert registered["errors"] == []
    image = row(registered["image"]["id"], "Image")
    assert [c["committedAt"] for c in registered["image"]["gitCommits"]] == [
        older.isoformat(),
        newest.isoformat(),
    ]
    assert (await Image.get(id=image)).newest_commit_at == newest

    earlier = await world.image("1.0")  # no commit time
    for tag_image in (earlier, image):
        await world.pass_stages(tag_image, "staging")
    [result] = await world.promote(world.tokens["dev"], image, ["prod"], env_source("staging"))
    await world.decide(world.tokens["approver"], [request_row(result)])
    await drain()
    await deployed(world, earlier)
    await deployed(world, image)
    assert (await rollback(world, world.tokens["dev"], earlier))["errors"] == []
    await drain()

    variables = {
        "app": "shop",
        "env": "prod",
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    total = _plain(
        (await gql(INSIGHTS, variables, world.tokens["viewer"]))["deliveryInsights"]["total"]
    )
    assert total["promotions"]["PROMOTED"] == total["promotionCount"] == 1
    assert total["skippedStages"] == 0  # staging → prod is the next stage
    assert total["approvalWait"]["samples"] == 1
    # Commit to running: the newest commit was an hour before the test began.
    lead = total["leadTime"]
    assert lead["samples"] == 1 and 3600 <= lead["p50Seconds"] < 3600 + 600, lead
    # Three deployments (1.0, 2.0, the rollback to 1.0); 2.0's was rolled back.
    assert (total["deployments"], total["rolledBack"]) == (3, 1)
