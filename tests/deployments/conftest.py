from __future__ import annotations

from typing import Any

from app.catalog.models import Trigger
from app.ids import global_id, row_id
from tests.conftest import People
from tests.promotions.world import World, build_world, drain, request_row
from tests.support.graphql import GraphQLClient

DEPLOYABLE = """query($env: String!) {
  deployableImages(application: "shop", environment: $env, first: 100) { edges { node {
    image { id tag } deployable reasons deploymentApprovals requiredDeploymentApprovals
    promotedFrom { sourceType sourceEnvironment requestId approvers { email } } } } } }"""
DEPLOY = """mutation($env: String!, $image: ID!) {
  deployImage(application: "shop", environment: $env, imageId: $image) {
    deployment { id status deployedBy { email } promotedFrom { requestId } }
    errors { code message field } } }"""
APPROVE_DEPLOYMENT = """mutation($env: String!, $image: ID!) {
  approveDeployment(application: "shop", environment: $env, imageId: $image) {
    approved errors { code message field } } }"""
HISTORY = """query($env: String) { deploymentHistory(application: "shop", environment: $env) {
  totalCount edges { node { id status image { tag } environment { name } deployedBy { email }
  promotedFrom { sourceType sourceEnvironment requestId approvers { email } } } } } }"""


async def deploy(world: World, token: str, image: int, env: str = "prod") -> dict[str, Any]:
    data = await world.gql(DEPLOY, {"env": env, "image": global_id("Image", image)}, token=token)
    return data["deployImage"]


async def approve_deployment(
    world: World, token: str, image: int, env: str = "prod"
) -> dict[str, Any]:
    variables = {"env": env, "image": global_id("Image", image)}
    data = await world.gql(APPROVE_DEPLOYMENT, variables, token=token)
    return data["approveDeployment"]


async def deployable(world: World, env: str = "prod") -> dict[str, dict[str, Any]]:
    """The environment's deployable images by str(row id) of the image."""
    data = await world.gql(DEPLOYABLE, {"env": env}, token=world.tokens["viewer"])
    nodes = [e["node"] for e in data["deployableImages"]["edges"]]
    return {str(row_id(d["image"]["id"], "Image")): d for d in nodes}


async def promoted_image(world: World, approvals: int = 0, **flags: Any) -> tuple[int, int]:
    """An image promoted from CI to prod (with `approvals` by approver, approver2...)."""
    await world.policy("lane", "prod", approver_count=approvals, **flags)
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    request = request_row(r)
    for name in ("approver", "approver2")[:approvals]:
        await world.decide(world.tokens[name], [request])
    await drain()
    assert await world.request_status(request) == "PROMOTED"
    return image, request


async def make_world(gql: GraphQLClient, people: People, admin: str, **prod: Any) -> World:
    prod.setdefault("trigger", Trigger.MANUAL)
    return await build_world(gql, people, admin, **prod)
