"""What policy changes do to open requests (SPEC §3), visible as soon as the mutation answers."""

from __future__ import annotations

from app.ids import global_id
from app.policies.models import PolicyBinding
from app.promotions.models import PromotionRequest
from tests.promotions.world import World, drain, request_row

UPDATE = """mutation($name: String!, $input: PromotionPolicyPatch!) {
  updatePromotionPolicy(name: $name, input: $input) { policy { version } errors { message } } }"""
APPLY = """mutation($policy: String, $pairs: [AppEnvInput!]!) {
  applyPromotionPolicy(policy: $policy, applicationEnvironments: $pairs) { errors { message } } }"""
PROD = [{"appName": "shop", "envName": "prod"}]


async def two_requests(world: World, approvals: int = 2) -> tuple[int, int]:
    await world.policy("careful", "prod", approver_count=approvals)
    ids = []
    for tag, labels in (("1.0", ["stable"]), ("2.0", [])):
        image = await world.image(tag, labels=labels)
        [r] = await world.promote(world.tokens["dev"], image, ["prod"])
        ids.append(request_row(r))
    return ids[0], ids[1]


async def test_update_makes_ineligible_requests_stale(world: World) -> None:
    stable, unlabeled = await two_requests(world)
    await world.gql(
        UPDATE,
        {"name": "careful", "input": {"passCondition": '"stable" in imageLabels'}},
        token=world.admin,
    )
    assert await world.request_status(stable) == "AWAITING_APPROVAL"
    assert await world.request_status(unlabeled) == "STALE"
    stale = await PromotionRequest.get(id=unlabeled)
    assert "careful" in (stale.stale_reason or "") and stale.open_key is None
    assert (await PromotionRequest.get(id=stable)).policy_version == 2


async def test_update_lowering_the_count_promotes_those_with_enough(world: World) -> None:
    first, second = await two_requests(world, approvals=2)
    [r] = await world.decide(world.tokens["approver"], [first])
    assert r["outcome"] == "APPROVED"
    await world.gql(UPDATE, {"name": "careful", "input": {"approverCount": 1}}, token=world.admin)
    assert await world.request_status(first) == "PROMOTING"
    assert await world.request_status(second) == "AWAITING_APPROVAL"
    await drain()
    assert await world.request_status(first) == "PROMOTED"
    assert (await PromotionRequest.get(id=second)).required_approvals == 1


async def test_delete_makes_awaiting_requests_stale(world: World) -> None:
    first, second = await two_requests(world)
    data = await world.gql(
        'mutation { deletePromotionPolicy(name: "careful") { deleted } }', token=world.admin
    )
    assert data["deletePromotionPolicy"]["deleted"] is True
    assert {await world.request_status(first), await world.request_status(second)} == {"STALE"}
    request = await world.gql(
        "query($id: ID!) { promotionRequest(id: $id) { policy { name } staleReason } }",
        {"id": global_id("PromotionRequest", first)},
        token=world.admin,
    )
    assert request["promotionRequest"]["policy"] is None
    assert "deleted" in request["promotionRequest"]["staleReason"]


async def test_rebinding_and_unbinding_make_requests_stale(world: World) -> None:
    first, _ = await two_requests(world)
    await world.policy("other")
    await world.gql(APPLY, {"policy": "other", "pairs": PROD}, token=world.admin)
    assert await world.request_status(first) == "STALE"
    image = await world.image("7.0")
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "PROMOTING"  # "other" needs no approval
    await world.gql(APPLY, {"policy": "careful", "pairs": PROD}, token=world.admin)
    image = await world.image("8.0")
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    third = request_row(r)
    await world.gql(APPLY, {"policy": None, "pairs": PROD}, token=world.admin)
    assert await world.request_status(third) == "STALE"


async def test_reapplying_the_same_policy_changes_nothing(world: World) -> None:
    first, second = await two_requests(world)
    await world.gql(APPLY, {"policy": "careful", "pairs": PROD}, token=world.admin)
    assert await world.request_status(first) == "AWAITING_APPROVAL"
    assert await world.request_status(second) == "AWAITING_APPROVAL"


async def test_promote_job_marks_stale_when_the_policy_went_away(world: World) -> None:
    await world.policy("fast-lane", "prod")
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    request = request_row(r)
    # The binding disappears between the request and the job (e.g. an operator's SQL).
    await PolicyBinding.all().delete()
    await drain()
    assert await world.request_status(request) == "STALE"


async def test_approving_when_the_binding_vanished_is_stale(world: World) -> None:
    first, _ = await two_requests(world)
    await PolicyBinding.all().delete()
    [r] = await world.decide(world.tokens["approver"], [first])
    assert r["outcome"] == "STALE"
    assert await world.request_status(first) == "STALE"
