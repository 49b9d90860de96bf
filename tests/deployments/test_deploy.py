"""deployableImages, approveDeployment and deployImage: reasons and refusal codes (SPEC §6)."""

from __future__ import annotations

from typing import Any

import pytest

from app.deployments.models import Deployment, DeploymentApproval
from app.ids import global_id
from tests.conftest import People
from tests.deployments.conftest import (
    APPROVE_DEPLOYMENT,
    DEPLOY,
    approve_deployment,
    deploy,
    deployable,
    make_world,
    promoted_image,
)
from tests.promotions.world import drain, request_row
from tests.support.catalog import refused
from tests.support.graphql import GraphQLClient
from tests.support.ids import row


async def test_not_deployable_until_it_reaches_the_environment(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    image = await world.image()
    assert str(image) not in await deployable(world, "prod")
    assert str(image) in await deployable(world, "dev"), "dev follows CI"
    result = await deploy(world, world.tokens["dev"], image)
    assert result["errors"][0]["code"] == "NOT_DEPLOYABLE"
    assert await Deployment.all().count() == 0
    await world.pass_stages(image, "staging")
    [entry] = (await deployable(world, "prod")).values()
    assert entry["deployable"] is True and entry["reasons"] == []
    assert entry["promotedFrom"] is None


async def test_promoted_image_deploys_with_provenance(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    image, request = await promoted_image(world)
    entry = (await deployable(world))[str(image)]
    assert entry["deployable"] is True
    assert entry["promotedFrom"] == {
        "sourceType": "CI",
        "sourceEnvironment": None,
        "requestId": global_id("PromotionRequest", request),
        "approvers": [],
    }
    result = await deploy(world, world.tokens["dev"], image)
    assert result["errors"] == []
    assert result["deployment"]["status"] == "QUEUED"
    assert result["deployment"]["promotedFrom"] == {
        "requestId": global_id("PromotionRequest", request)
    }
    await drain()
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    assert deployment.status == "SUCCEEDED"
    entry = (await deployable(world))[str(image)]
    assert entry["deployable"] is False and "already running" in entry["reasons"][0]
    again = await deploy(world, world.tokens["dev"], image)
    assert again["errors"][0]["code"] == "NOT_DEPLOYABLE"


async def test_filter_condition_blocks_a_promoted_image(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin, filter_fail_condition='containerImageTag == "1.0"')
    image, _ = await promoted_image(world)
    entry = (await deployable(world))[str(image)]
    assert entry["deployable"] is False
    assert entry["reasons"] == [
        "blocked by the filter condition of prod: fail condition is true: "
        'containerImageTag == "1.0"'
    ]
    result = await deploy(world, world.tokens["dev"], image)
    assert result["errors"][0]["code"] == "FILTER_BLOCKED"
    # deployImage names the clause that blocked it, with its value (issue 20).
    assert result["errors"][0]["message"].endswith(
        'fail condition: containerImageTag == "1.0" → "1.0" == "1.0"'
    ), result["errors"][0]["message"]


@pytest.mark.parametrize("required", [0, 1, 2])
async def test_deployment_approval_count(
    gql: GraphQLClient, people: People, admin: str, required: int
) -> None:
    world = await make_world(gql, people, admin, deployment_approval_count=required)
    image, _ = await promoted_image(world)
    for i, name in enumerate(("gatekeeper", "gatekeeper2")[:required]):
        entry = (await deployable(world))[str(image)]
        assert (entry["deploymentApprovals"], entry["requiredDeploymentApprovals"]) == (i, required)
        assert entry["reasons"] == [f"needs {required} deployment approval(s), has {i}"]
        result = await deploy(world, world.tokens["dev"], image)
        assert result["errors"][0]["code"] == "DEPLOYMENT_APPROVAL_REQUIRED"
        assert (await approve_deployment(world, world.tokens[name], image))["approved"] is True
    result = await deploy(world, world.tokens["dev"], image)
    assert result["errors"] == [] and result["deployment"]["id"]


async def test_approve_deployment_rules(gql: GraphQLClient, people: People, admin: str) -> None:
    world = await make_world(gql, people, admin, deployment_approval_count=1)
    image, _ = await promoted_image(world)
    body = await world.gql.raw(
        APPROVE_DEPLOYMENT,
        {"env": "prod", "image": global_id("Image", image)},
        token=world.tokens["approver"],
    )
    assert refused(body, "approveDeployment") == "FORBIDDEN"
    ok = await approve_deployment(world, world.tokens["gatekeeper"], image)
    assert ok == {"approved": True, "errors": []}
    twice = await approve_deployment(world, world.tokens["gatekeeper"], image)
    assert twice["errors"][0]["code"] == "CONFLICT"
    # The image's builder holds the role, but may not approve their own image.
    from app.accounts.models import Role

    builder = await world.user("maker", (Role.DEPLOYMENT_APPROVER, "shop", "*"))
    own = await world.image("6.6", built_by="maker")
    await world.pass_stages(own, "staging")
    own_approval = await approve_deployment(world, builder, own)
    assert own_approval["errors"][0]["code"] == "BUILDER_CANNOT_APPROVE"
    unknown = await approve_deployment(world, world.tokens["gatekeeper"], 4242)
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    assert await DeploymentApproval.all().count() == 1


async def test_deploy_needs_build_deploy(gql: GraphQLClient, people: People, admin: str) -> None:
    world = await make_world(gql, people, admin)
    image, _ = await promoted_image(world)
    for who in ("viewer", "approver", "gatekeeper"):
        body = await world.gql.raw(
            DEPLOY, {"env": "prod", "image": global_id("Image", image)}, token=world.tokens[who]
        )
        assert refused(body, "deployImage") == "FORBIDDEN", who
    assert await Deployment.all().count() == 0


@pytest.mark.parametrize("allowed", [False, True])
async def test_approver_cannot_deploy_unless_the_policy_allows(
    gql: GraphQLClient, people: People, admin: str, allowed: bool
) -> None:
    world = await make_world(gql, people, admin)
    from app.accounts.models import Role

    both = await world.user(
        "both", (Role.ARTIFACT_PROMOTER, "shop", "prod"), (Role.BUILD_DEPLOY, "shop", "prod")
    )
    await world.policy("lane", "prod", approver_count=1, allow_approver_from_deploy=allowed)
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    [d] = await world.decide(both, [request_row(r)])
    assert d["outcome"] == "PROMOTING"
    await drain()
    result = await deploy(world, both, image)
    if allowed:
        assert result["errors"] == []
    else:
        assert result["errors"][0]["code"] == "APPROVER_CANNOT_DEPLOY"
        # Someone who did not approve it may deploy it.
        assert (await deploy(world, world.tokens["dev"], image))["errors"] == []


async def test_history_shows_provenance(gql: GraphQLClient, people: People, admin: str) -> None:
    from tests.deployments.conftest import HISTORY
    from tests.promotions.world import env_source

    world = await make_world(gql, people, admin)
    await world.policy("lane", "prod", approver_count=1)
    from_ci = await world.image("1.0")
    [r1] = await world.promote(world.tokens["dev"], from_ci, ["prod"])
    await world.decide(world.tokens["approver"], [request_row(r1)])
    from_staging = await world.image("2.0")
    await world.pass_stages(from_staging, "dev")
    await world.pass_stages(from_staging, "staging")
    normal = await world.image("3.0")
    await world.pass_stages(normal, "staging")
    # 2.0 passed staging, so it also reaches prod normally: promote it from dev instead.
    await world.policy("lane-2", "staging", approver_count=1)
    [r2] = await world.promote(world.tokens["dev"], from_staging, ["prod"], env_source("dev"))
    assert r2["outcome"] == "AWAITING_APPROVAL"
    await world.decide(world.tokens["approver2"], [request_row(r2)])
    await drain()
    for image in (from_ci, normal):
        assert (await deploy(world, world.tokens["dev"], image))["errors"] == []
        await drain()
    history = (await world.gql(HISTORY, {"env": "prod"}, token=world.tokens["viewer"]))[
        "deploymentHistory"
    ]
    assert history["totalCount"] == 2
    newest, oldest = (e["node"] for e in history["edges"])
    assert newest["image"]["tag"] == "3.0" and newest["promotedFrom"] is None
    assert newest["deployedBy"] == {"email": "dev@example.com"}
    assert oldest["promotedFrom"] == {
        "sourceType": "CI",
        "sourceEnvironment": None,
        "requestId": r1["request"]["id"],
        "approvers": [{"email": "approver@example.com"}],
    }
    # from_staging reached prod by the normal path too, so it is no promotion-only image.
    entry = (await deployable(world))[str(from_staging)]
    assert entry["promotedFrom"] is None


async def test_history_of_an_environment_sourced_promotion(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    from tests.deployments.conftest import HISTORY
    from tests.promotions.world import env_source

    world = await make_world(gql, people, admin)
    await world.policy("lane", "prod", approver_count=1)
    image = await world.image()
    await world.pass_stages(image, "dev")
    [r] = await world.promote(world.tokens["dev"], image, ["prod"], env_source("dev"))
    await world.decide(world.tokens["approver"], [request_row(r)])
    await drain()
    assert (await deploy(world, world.tokens["builder"], image))["errors"] == []
    history = (await world.gql(HISTORY, {"env": "prod"}, token=world.tokens["viewer"]))[
        "deploymentHistory"
    ]
    assert history["edges"][0]["node"]["promotedFrom"] == {
        "sourceType": "ENVIRONMENT",
        "sourceEnvironment": "dev",
        "requestId": r["request"]["id"],
        "approvers": [{"email": "approver@example.com"}],
    }


async def test_deployable_images_is_hidden_from_outsiders(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin)
    outsider = await people.token("outsider@example.com")
    code = await world.gql.error_code(
        '{ deployableImages(application: "shop", environment: "prod") '
        "{ edges { node { deployable } } } }",
        token=outsider,
    )
    assert code == "FORBIDDEN"


PAGED = """query($after: String) {
  deployableImages(application: "shop", environment: "prod", first: 2, after: $after) {
    edges { node { image { id tag } promotedFrom { requestId } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } totalCount } }"""


async def test_deployable_images_pages_list_every_candidate_once(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    """Walked two at a time, the connection lists the normal path's images and the
    promoted ones together, newest first, each once; one image both promoted and on the
    normal path, older than the normal path's first page, is still no promoted-only one."""
    world = await make_world(gql, people, admin)
    await world.policy("lane", "prod")
    images: dict[str, int] = {}
    requests: dict[str, int] = {}
    for tag in ("1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0"):
        images[tag] = await world.image(tag)
        if tag in ("1.0", "4.0"):
            [r] = await world.promote(world.tokens["dev"], images[tag], ["prod"])
            requests[tag] = request_row(r)
        if tag in ("1.0", "2.0", "5.0", "6.0"):
            await world.pass_stages(images[tag], "staging")
    await world.pass_stages(images["3.0"], "dev")  # not past staging: not a prod candidate
    await drain()
    assert {await world.request_status(r) for r in requests.values()} == {"PROMOTED"}

    pages: list[dict[str, Any]] = []
    after: str | None = None
    while len(pages) < 5:  # a cursor that does not advance fails here instead of looping
        data = await world.gql(PAGED, {"after": after}, token=world.tokens["viewer"])
        page = data["deployableImages"]
        pages.append(page)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    listed = [e["node"] for page in pages for e in page["edges"]]
    assert [len(page["edges"]) for page in pages] == [2, 2, 1]
    assert [n["image"]["tag"] for n in listed] == ["6.0", "5.0", "4.0", "2.0", "1.0"]
    assert [n["image"]["id"] for n in listed] == [
        global_id("Image", images[t]) for t in ("6.0", "5.0", "4.0", "2.0", "1.0")
    ]
    # Only 4.0 reached prod by promotion alone.
    assert [n["promotedFrom"] for n in listed] == [
        None,
        None,
        {"requestId": global_id("PromotionRequest", requests["4.0"])},
        None,
        None,
    ]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    assert {page["totalCount"] for page in pages} == {len(listed)}
