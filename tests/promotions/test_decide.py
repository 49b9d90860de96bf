"""approve / reject / cancel: every outcome code in SPEC §5's order, SoD flags, quorum."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.ids import global_id, row_id
from app.promotions.models import PromotionDecision
from tests.promotions.world import CANCEL, World, drain, request_row
from tests.support.catalog import refused


async def awaiting(world: World, approvals: int = 1, **flags: bool) -> int:
    """A request by `dev` for an image built by `builder`, awaiting `approvals` approvals."""
    await world.policy("careful", "prod", approver_count=approvals, **flags)
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "AWAITING_APPROVAL", r
    return request_row(r)


async def test_one_approval_promotes(world: World) -> None:
    request = await awaiting(world)
    [r] = await world.decide(world.tokens["approver"], [request])
    assert (r["outcome"], r["request"]["status"]) == ("PROMOTING", "PROMOTING")
    await drain()
    assert await world.request_status(request) == "PROMOTED"


@pytest.mark.parametrize("quorum", [2, 6])
async def test_quorum_counts_distinct_approvers(world: World, quorum: int) -> None:
    request = await awaiting(world, approvals=quorum)
    approvers = [
        await world.user(f"a{i}", (Role.ARTIFACT_PROMOTER, "shop", "prod")) for i in range(quorum)
    ]
    for token in approvers[:-1]:
        [r] = await world.decide(token, [request])
        assert r["outcome"] == "APPROVED"
    [again] = await world.decide(approvers[0], [request])
    assert again["outcome"] == "ALREADY_APPROVED"
    assert await world.request_status(request) == "AWAITING_APPROVAL"
    [last] = await world.decide(approvers[-1], [request])
    assert last["outcome"] == "PROMOTING"
    assert await PromotionDecision.filter(request_id=request).count() == quorum


async def test_outcomes_in_order(world: World) -> None:
    request = await awaiting(world, approvals=2)
    results = await world.decide(world.tokens["approver"], [999, request, request])
    assert [r["outcome"] for r in results] == ["NOT_FOUND", "APPROVED", "ALREADY_APPROVED"]
    [r] = await world.decide(world.tokens["viewer"], [request])
    assert r["outcome"] == "FORBIDDEN"
    [r] = await world.decide(world.tokens["dev"], [request])
    assert r["outcome"] == "FORBIDDEN", "BUILD_DEPLOY does not let you approve"


async def test_not_pending_names_the_state(world: World) -> None:
    request = await awaiting(world)
    await world.decide(world.tokens["approver"], [request])
    [r] = await world.decide(world.tokens["approver2"], [request])
    assert r["outcome"] == "NOT_PENDING" and "PROMOTING" in r["message"]


async def test_requester_and_builder_cannot_approve_by_default(world: World) -> None:
    request = await awaiting(world)
    # Both hold ARTIFACT_PROMOTER everywhere, yet the flags stop them.
    requester = await world.user(
        "req", (Role.BUILD_DEPLOY, "shop", "*"), (Role.ARTIFACT_PROMOTER, "*", "*")
    )
    image = await world.image("2.0", built_by="req")
    [r] = await world.promote(requester, image, ["prod"])
    own = request_row(r)
    [r] = await world.decide(requester, [own])
    assert r["outcome"] == "REQUESTER_CANNOT_APPROVE"
    builder = await world.user("b2", (Role.ARTIFACT_PROMOTER, "*", "*"))
    built = await world.image("3.0", built_by="b2")
    [r] = await world.promote(world.tokens["dev"], built, ["prod"])
    [r] = await world.decide(builder, [request_row(r)])
    assert r["outcome"] == "BUILDER_CANNOT_APPROVE"
    assert await world.request_status(request) == "AWAITING_APPROVAL"


async def test_flags_apply_to_super_admins(world: World) -> None:
    await world.policy("careful", "prod", approver_count=1)
    admin = await world.people.admin("root@example.com")
    image = await world.image(built_by="builder")
    [r] = await world.promote(admin, image, ["prod"])
    [d] = await world.decide(admin, [request_row(r)])
    assert d["outcome"] == "REQUESTER_CANNOT_APPROVE"
    built = await world.image("9.9", built_by="root")
    [r] = await world.promote(world.tokens["dev"], built, ["prod"])
    [d] = await world.decide(admin, [request_row(r)])
    assert d["outcome"] == "BUILDER_CANNOT_APPROVE"


async def test_flags_allow_when_set(world: World) -> None:
    await world.policy(
        "relaxed",
        "prod",
        approver_count=1,
        allow_request_from_approve=True,
        allow_image_builder_from_approve=True,
    )
    both = await world.user(
        "both", (Role.BUILD_DEPLOY, "shop", "*"), (Role.ARTIFACT_PROMOTER, "shop", "prod")
    )
    image = await world.image(built_by="both")
    [r] = await world.promote(both, image, ["prod"])
    [d] = await world.decide(both, [request_row(r)])
    assert d["outcome"] == "PROMOTING"


async def test_reject_needs_reason_and_records_it(world: World) -> None:
    request = await awaiting(world)
    body = await world.gql.raw(
        'mutation($ids: [ID!]!) { rejectPromotionRequests(requestIds: $ids, reason: "  ") '
        "{ results { outcome } errors { code message field } } }",
        {"ids": [global_id("PromotionRequest", request)]},
        token=world.tokens["approver"],
    )
    assert refused(body, "rejectPromotionRequests") == "VALIDATION"
    assert body["data"]["rejectPromotionRequests"]["errors"][0]["field"] == "reason"
    assert await world.request_status(request) == "AWAITING_APPROVAL"
    [r] = await world.decide(world.tokens["approver"], [request], reason="tests are red")
    assert r["outcome"] == "REJECTED"
    assert r["request"]["rejection"] == {
        "user": {"email": "approver@example.com"},
        "comment": "tests are red",
    }
    # A rejected request frees the pair: the image can be requested again.
    image = (
        await world.gql(
            "query($id: ID!) { promotionRequest(id: $id) { image { id } } }",
            {"id": global_id("PromotionRequest", request)},
            token=world.admin,
        )
    )["promotionRequest"]["image"]["id"]
    image_row = row_id(image, "Image")
    assert image_row is not None, image
    [again] = await world.promote(world.tokens["dev"], image_row, ["prod"])
    assert again["outcome"] == "AWAITING_APPROVAL"


async def test_reject_obeys_the_same_eligibility(world: World) -> None:
    request = await awaiting(world)
    [r] = await world.decide(world.tokens["dev"], [request], reason="no")
    assert r["outcome"] == "FORBIDDEN"
    [r] = await world.decide(world.tokens["viewer"], [request], reason="no")
    assert r["outcome"] == "FORBIDDEN"
    assert await world.request_status(request) == "AWAITING_APPROVAL"


async def test_cancel_rules(world: World) -> None:
    request = await awaiting(world)
    body = await world.gql.raw(
        CANCEL, {"id": global_id("PromotionRequest", request)}, token=world.tokens["approver"]
    )
    assert refused(body, "cancelPromotionRequest") == "FORBIDDEN"
    assert await world.request_status(request) == "AWAITING_APPROVAL"
    for missing in (global_id("PromotionRequest", 12345), str(request)):  # no row; a bare id
        data = await world.gql(CANCEL, {"id": missing}, token=world.tokens["dev"])
        assert data["cancelPromotionRequest"]["errors"][0]["code"] == "NOT_FOUND", missing
    data = await world.gql(
        CANCEL, {"id": global_id("PromotionRequest", request)}, token=world.tokens["dev"]
    )
    assert data["cancelPromotionRequest"]["request"]["status"] == "CANCELLED"
    data = await world.gql(
        CANCEL, {"id": global_id("PromotionRequest", request)}, token=world.tokens["dev"]
    )
    assert data["cancelPromotionRequest"]["errors"][0]["code"] == "NOT_PENDING"
    other = await awaiting_again(world)
    data = await world.gql(CANCEL, {"id": global_id("PromotionRequest", other)}, token=world.admin)
    assert data["cancelPromotionRequest"]["request"]["status"] == "CANCELLED"


async def awaiting_again(world: World) -> int:
    image = await world.image("5.0")
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    return request_row(r)


async def test_approving_after_the_pair_changed_policy_is_stale(world: World) -> None:
    request = await awaiting(world)
    await world.policy("other", "prod")  # re-binds prod to another policy
    assert await world.request_status(request) == "STALE"
    [r] = await world.decide(world.tokens["approver"], [request])
    assert r["outcome"] == "NOT_PENDING"
