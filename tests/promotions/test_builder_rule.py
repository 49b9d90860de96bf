"""The builder rule cannot be dodged by naming someone else as builtBy (issue 11, item 7):
who registered an image counts as a builder too, unless it is a CI identity, in every
place the rule applies — approving, canApprove, pendingApprovals, the approvers a preview
lists (and emails), and deployment approvals."""

from __future__ import annotations

from app.accounts.access import SYSTEM, Access
from app.accounts.models import Role
from app.accounts.service import create_api_token, create_user, grant_role
from app.ids import global_id
from tests.promotions.world import CI, World, request_row
from tests.support.ids import row

REGISTER = """mutation($tag: String!, $builtBy: String) { registerImage(input: {
  application: "shop", workflow: "main", image: $tag, builtBy: $builtBy}) {
  image { id builtBy { email } registeredBy { email } } errors { code field } } }"""
REQUEST = """query($id: ID!) { promotionRequest(id: $id) { canApprove cannotApproveReason } }"""
PENDING_WITH_ME = """{ pendingApprovals(pendingWithMe: true) { edges { node { id } } } }"""
PREVIEW = """query($image: ID!, $source: ImageSourceInput!) {
  promotionPreview(imageId: $image, source: $source, targetEnvironments: ["prod"]) {
    eligibleApprovers { email } } }"""
APPROVE_DEPLOYMENT = """mutation($image: ID!) {
  approveDeployment(application: "shop", environment: "prod", imageId: $image) {
    approved errors { code field } } }"""


async def register(world: World, token: str, tag: str, built_by: str) -> int:
    data = await world.gql(
        REGISTER, {"tag": f"registry.example.com/shop:{tag}", "builtBy": built_by}, token=token
    )
    payload = data["registerImage"]
    assert payload["errors"] == [], payload
    return row(payload["image"]["id"], "Image")


async def ci_identity(world: World, email: str, *roles: tuple[Role, str, str]) -> str:
    user = await create_user(SYSTEM, email, "CI", ci_identity=True)
    for role in roles:
        await grant_role(SYSTEM, email, *role)
    return (await create_api_token(Access(user), "ci", None, None))[1]


async def request_of(world: World, image: int) -> int:
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "AWAITING_APPROVAL", r
    return request_row(r)


async def eligible(world: World, image: int) -> list[str]:
    """Whom a promotion of the image to prod would ask (and email) for approval."""
    preview = (
        await world.gql(
            PREVIEW, {"image": global_id("Image", image), "source": CI}, token=world.tokens["dev"]
        )
    )["promotionPreview"][0]
    return sorted(a["email"] for a in preview["eligibleApprovers"])


async def seen_by(world: World, token: str, request: int) -> dict[str, bool]:
    """What the rule decides for one caller about a request, in each place it shows."""
    shown = (await world.gql(REQUEST, {"id": global_id("PromotionRequest", request)}, token=token))[
        "promotionRequest"
    ]
    pending = (await world.gql(PENDING_WITH_ME, token=token))["pendingApprovals"]["edges"]
    return {
        "canApprove": shown["canApprove"],
        "pendingWithMe": global_id("PromotionRequest", request)
        in {e["node"]["id"] for e in pending},
    }


async def builder_approves_too(world: World) -> None:
    """The named builder holds the approver role as well: the rule, not the role, stops it."""
    await grant_role(SYSTEM, "builder@example.com", Role.ARTIFACT_PROMOTER, "shop", "prod")


async def test_a_registrant_naming_someone_else_counts_as_a_builder(world: World) -> None:
    await world.policy("careful", "prod", approver_count=1)
    # A super-admin may name another builder, and also holds the approver role here.
    _, root_token = await world.people.user(
        "root@example.com", (Role.ARTIFACT_PROMOTER, "shop", "prod"), super_admin=True
    )
    await builder_approves_too(world)
    image = await register(world, root_token, "1.0", "builder@example.com")
    assert await eligible(world, image) == ["approver2@example.com", "approver@example.com"]
    request = await request_of(world, image)
    assert await seen_by(world, root_token, request) == {
        "canApprove": False,
        "pendingWithMe": False,
    }
    assert await seen_by(world, world.tokens["approver"], request) == {
        "canApprove": True,
        "pendingWithMe": True,
    }
    reason = (
        await world.gql(REQUEST, {"id": global_id("PromotionRequest", request)}, token=root_token)
    )["promotionRequest"]["cannotApproveReason"]
    assert "builder" in reason
    [d] = await world.decide(root_token, [request])
    assert d["outcome"] == "BUILDER_CANNOT_APPROVE"
    [d] = await world.decide(world.tokens["builder"], [request])  # the named one, as before
    assert d["outcome"] == "BUILDER_CANNOT_APPROVE"
    assert await world.request_status(request) == "AWAITING_APPROVAL"


async def test_the_flag_lets_the_registrant_approve(world: World) -> None:
    await world.policy("relaxed", "prod", approver_count=1, allow_image_builder_from_approve=True)
    _, root_token = await world.people.user("root@example.com", super_admin=True)
    request = await request_of(
        world, await register(world, root_token, "1.0", "builder@example.com")
    )
    [d] = await world.decide(root_token, [request])
    assert d["outcome"] == "PROMOTING"


async def test_a_ci_identity_is_not_a_builder_of_what_it_registers(world: World) -> None:
    await world.policy("careful", "prod", approver_count=1)
    ci = await ci_identity(
        world,
        "ci@example.com",
        (Role.BUILD_DEPLOY, "shop", "*"),
        (Role.ARTIFACT_PROMOTER, "shop", "prod"),
    )
    await builder_approves_too(world)
    image = await register(world, ci, "1.0", "builder@example.com")
    assert await eligible(world, image) == [
        "approver2@example.com",
        "approver@example.com",
        "ci@example.com",
    ]
    request = await request_of(world, image)
    assert await seen_by(world, ci, request) == {"canApprove": True, "pendingWithMe": True}
    assert await seen_by(world, world.tokens["builder"], request) == {
        "canApprove": False,
        "pendingWithMe": False,
    }
    [d] = await world.decide(world.tokens["builder"], [request])
    assert d["outcome"] == "BUILDER_CANNOT_APPROVE"
    [d] = await world.decide(ci, [request])
    assert d["outcome"] == "PROMOTING"


async def test_a_registrant_cannot_approve_the_deployment(world: World) -> None:
    _, root_token = await world.people.user(
        "root@example.com", (Role.DEPLOYMENT_APPROVER, "shop", "prod"), super_admin=True
    )
    image = await register(world, root_token, "1.0", "builder@example.com")
    data = await world.gql(
        APPROVE_DEPLOYMENT, {"image": global_id("Image", image)}, token=root_token
    )
    assert data["approveDeployment"] == {
        "approved": False,
        "errors": [{"code": "BUILDER_CANNOT_APPROVE", "field": "imageId"}],
    }
    ci = await ci_identity(world, "ci@example.com", (Role.BUILD_DEPLOY, "shop", "*"))
    by_ci = await register(world, ci, "2.0", "builder@example.com")
    data = await world.gql(
        APPROVE_DEPLOYMENT, {"image": global_id("Image", by_ci)}, token=world.tokens["gatekeeper"]
    )
    # Past the builder rule (the gatekeeper built nothing): refused only because the
    # image has not reached prod yet.
    assert data["approveDeployment"]["errors"][0]["code"] == "NOT_DEPLOYABLE"
