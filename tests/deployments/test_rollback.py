"""rollbackDeployment (issue 18): only an image that SUCCEEDED in the environment and is not
the one there now; the environment's rules and window apply, promotion's do not; history
marks the rollback; the replaced promotion's requester gets an email (real SMTP)."""

from __future__ import annotations

from typing import Any

from app.accounts.access import SYSTEM
from app.accounts.models import Role
from app.catalog import service as catalog
from app.catalog.models import CdPipeline, Stage, StageStatus
from app.db import unit_of_work
from app.deployments.models import Deployment
from app.ids import global_id
from app.notifications.models import Notification, NotificationEvent
from tests.conftest import People
from tests.deployments.conftest import HISTORY, approve_deployment, deploy, deployable, make_world
from tests.notifications.conftest import clock, mailbox, smtp_server
from tests.notifications.helpers import Clock
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import World, drain, request_row
from tests.support.catalog import refused
from tests.support.graphql import GraphQLClient
from tests.support.ids import row
from tests.windows.conftest import freeze

__all__ = ["clock", "mailbox", "smtp_server"]  # fixtures

ROLLBACK = """mutation($env: String!, $image: ID!) {
  rollbackDeployment(application: "shop", environment: $env, toImage: $image) {
    deployment { id status image { tag } rollbackOf { id image { tag } }
      promotedFrom { requestId } }
    errors { code message field } } }"""


async def rollback(world: World, token: str, image: int, env: str = "prod") -> dict[str, Any]:
    data = await world.gql(ROLLBACK, {"env": env, "image": global_id("Image", image)}, token=token)
    return dict(data["rollbackDeployment"])


def refusal(payload: dict[str, Any]) -> tuple[str, str, str]:
    """(code, field, message) of a refused rollback, which made no deployment."""
    assert payload["deployment"] is None, payload
    [error] = payload["errors"]
    return error["code"], error["field"], error["message"]


async def deployed(world: World, image: int, env: str = "prod", who: str = "dev") -> int:
    """Deploy the image and let the (noop) executor run it: SUCCEEDED; its row id."""
    result = await deploy(world, world.tokens[who], image, env)
    assert result["errors"] == [], result
    await drain()
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    assert deployment.status == "SUCCEEDED"
    return deployment.id


async def at_prod(world: World, tag: str) -> int:
    """An image that reached prod by the normal path (it passed staging)."""
    image = await world.image(tag)
    await world.pass_stages(image, "staging")
    return image


async def prod_pipeline() -> CdPipeline:
    return await CdPipeline.get(application__name="shop", environment__name="prod")


async def test_a_rollback_brings_back_an_earlier_image_and_history_says_so(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    first, second = await at_prod(world, "1.0"), await at_prod(world, "2.0")
    await deployed(world, first)
    replaced = await deployed(world, second)

    result = await rollback(world, world.tokens["dev"], first)
    assert result["errors"] == []
    made = result["deployment"]
    assert (made["status"], made["image"]["tag"]) == ("QUEUED", "1.0")
    assert made["rollbackOf"] == {
        "id": global_id("Deployment", replaced),
        "image": {"tag": "2.0"},
    }
    # Under way: a second rollback to it is refused by the environment's own rule.
    busy = refusal(await rollback(world, world.tokens["dev"], first))
    assert busy[:2] == ("NOT_DEPLOYABLE", "toImage") and "in progress" in busy[2]

    await drain()  # the executor runs it, as any deployment
    history = (await world.gql(HISTORY, {"env": "prod"}, token=world.tokens["viewer"]))[
        "deploymentHistory"
    ]
    assert [e["node"]["status"] for e in history["edges"]] == ["SUCCEEDED"] * 3
    assert history["edges"][0]["node"]["image"]["tag"] == "1.0"
    # 1.0 is the image there now: rolling back to it is refused, back to 2.0 is allowed.
    current = refusal(await rollback(world, world.tokens["dev"], first))
    assert (
        current[:2] == ("NOT_ROLLBACKABLE", "toImage") and "is the image in prod now" in current[2]
    )
    again = await rollback(world, world.tokens["builder"], second)
    assert again["errors"] == [] and again["deployment"]["rollbackOf"]["id"] == made["id"]


async def test_only_an_image_that_succeeded_in_the_environment_is_rolled_back_to(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    first = await at_prod(world, "1.0")
    nothing_yet = refusal(await rollback(world, world.tokens["dev"], first))
    assert nothing_yet[:2] == ("NOT_ROLLBACKABLE", "toImage")
    assert "nothing has succeeded in prod yet" in nothing_yet[2]
    await deployed(world, first)

    # Reached prod, and deployable there, but never deployed to it.
    never = await at_prod(world, "2.0")
    # Deployed to staging (succeeded there), never to prod.
    elsewhere = await at_prod(world, "3.0")
    await world.pass_stages(elsewhere, "dev")
    await deployed(world, elsewhere, "staging")
    # Deployed to prod, and failed there.
    failed = await at_prod(world, "4.0")
    result = await deploy(world, world.tokens["dev"], failed)
    async with unit_of_work():  # CD reports the DEPLOY stage failed before the executor ran
        await catalog.record_stage_result(SYSTEM, failed, "prod", Stage.DEPLOY, StageStatus.FAILED)
    await drain()
    assert (await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))).status == (
        "FAILED"
    )
    before = await Deployment.all().count()
    for image in (never, elsewhere, failed):
        code, field, message = refusal(await rollback(world, world.tokens["dev"], image))
        assert (code, field) == ("NOT_ROLLBACKABLE", "toImage"), image
        assert "never succeeded in prod" in message
    unknown = refusal(await rollback(world, world.tokens["dev"], 4242))
    assert unknown[:2] == ("NOT_FOUND", "toImage")
    assert await Deployment.all().count() == before


async def test_a_rollback_needs_build_deploy(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    first = await at_prod(world, "1.0")
    await deployed(world, first)
    await deployed(world, await at_prod(world, "2.0"))
    before = await Deployment.all().count()
    for who in ("viewer", "approver", "gatekeeper"):
        body = await world.gql.raw(
            ROLLBACK, {"env": "prod", "image": global_id("Image", first)}, token=world.tokens[who]
        )
        assert refused(body, "rollbackDeployment") == "FORBIDDEN", who
    assert await Deployment.all().count() == before


async def test_the_environments_filter_and_deployment_approvals_still_apply(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    first = await at_prod(world, "1.0")
    await deployed(world, first)
    await deployed(world, await at_prod(world, "2.0"))
    pipeline = await prod_pipeline()
    # No API changes a pipeline's rules after its workflow is made: they are set here.
    await CdPipeline.filter(id=pipeline.id).update(
        filter_fail_condition='containerImageTag == "1.0"'
    )
    blocked = refusal(await rollback(world, world.tokens["dev"], first))
    assert blocked[:2] == ("FILTER_BLOCKED", "toImage") and "filter condition of prod" in blocked[2]

    await CdPipeline.filter(id=pipeline.id).update(
        filter_fail_condition=None, deployment_approval_count=1
    )
    needs = refusal(await rollback(world, world.tokens["dev"], first))
    assert needs == (
        "DEPLOYMENT_APPROVAL_REQUIRED",
        "toImage",
        "needs 1 deployment approval(s), has 0",
    )
    assert (await approve_deployment(world, world.tokens["gatekeeper"], first))["approved"]
    assert (await rollback(world, world.tokens["dev"], first))["errors"] == []


async def test_a_rollback_is_held_to_neither_the_normal_path_nor_promotion_policy(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    both = await world.user(
        "both", (Role.ARTIFACT_PROMOTER, "shop", "prod"), (Role.BUILD_DEPLOY, "shop", "prod")
    )
    # Promoted straight to prod with both's approval; its policy lets no approver deploy it.
    await world.policy("lane", "prod", approver_count=1, allow_approver_from_deploy=False)
    promoted = await world.image("1.0")
    [r] = await world.promote(world.tokens["dev"], promoted, ["prod"])
    await world.decide(both, [request_row(r)])
    await drain()
    await deployed(world, promoted)
    # By the normal path, then it no longer counts as having passed staging.
    normal = await at_prod(world, "2.0")
    await deployed(world, normal)
    await deployed(world, await at_prod(world, "3.0"))
    await world.gql(
        """mutation($i: ID!) { recordStageResult(input: {imageId: $i, environment: "staging",
        stage: DEPLOY, status: FAILED}) { errors { code } } }""",
        {"i": global_id("Image", normal)},
        token=world.tokens["builder"],
    )
    assert str(normal) not in await deployable(world)
    assert (await deploy(world, world.tokens["dev"], normal))["errors"][0]["code"] == (
        "NOT_DEPLOYABLE"
    )
    assert (await deploy(world, both, promoted))["errors"][0]["code"] == "APPROVER_CANNOT_DEPLOY"

    back = await rollback(world, world.tokens["dev"], normal)
    assert back["errors"] == [] and back["deployment"]["promotedFrom"] is None
    await drain()
    again = await rollback(world, both, promoted)
    assert again["errors"] == []
    # It keeps the provenance of the deployment that brought the image the last time.
    assert again["deployment"]["promotedFrom"] == {"requestId": r["request"]["id"]}


async def test_a_rollback_waits_for_a_closed_promotion_window(
    gql: GraphQLClient, people: People, admin: str, clock: Clock
) -> None:
    world = await make_world(gql, people, admin)
    first = await at_prod(world, "1.0")
    await deployed(world, first)
    await deployed(world, await at_prod(world, "2.0"))
    opens = await freeze(world, clock, hours=2)
    code, field, message = refusal(await rollback(world, world.tokens["dev"], first))
    assert (code, field) == ("WINDOW_CLOSED", "environment")
    assert opens.isoformat().replace("+00:00", "Z") in message
    clock.advance(2 * 3600 + 60)
    assert (await rollback(world, world.tokens["dev"], first))["errors"] == []


async def test_the_replaced_promotions_requester_is_emailed_once(
    gql: GraphQLClient, people: People, admin: str, mailbox: Mailbox
) -> None:
    world = await make_world(gql, people, admin)
    normal = await at_prod(world, "1.0")
    await deployed(world, normal)
    await world.policy("lane", "prod")
    promoted = await world.image("2.0")
    [r] = await world.promote(world.tokens["dev"], promoted, ["prod"])
    await drain()
    await deployed(world, promoted, who="builder")
    mailbox.clear()  # the promotion's own email

    result = await rollback(world, world.tokens["builder"], normal)
    assert result["errors"] == []
    await drain()
    await drain()  # a second worker pass sends nothing again
    [email] = mailbox.to("dev@example.com")
    assert email.subject == (
        "Promoted image rolled back | Application: shop | Target environment: prod"
    )
    request = request_row(r)
    assert f"promotion request #{request} brought to prod was rolled back by" in email.text
    assert "builder@example.com" in email.text
    assert "Rolled back to:" in email.text and "registry.example.com/shop:1.0" in email.text
    assert result["deployment"]["id"] in email.text
    assert mailbox.recipients() == ["dev@example.com"]
    rows = await Notification.filter(event=NotificationEvent.ROLLED_BACK)
    assert [(n.request_id, n.occurrence) for n in rows] == [
        (request, row(result["deployment"]["id"], "Deployment"))
    ]

    # Rolling back the rollback replaces an image that came by the normal path: no email.
    mailbox.clear()
    assert (await rollback(world, world.tokens["builder"], promoted))["errors"] == []
    await drain()
    assert mailbox.recipients() == []
    assert await Notification.filter(event=NotificationEvent.ROLLED_BACK).count() == 1
