"""The read side: pending approvals, requests, promotable images, targets, preview."""

from __future__ import annotations

from typing import Any

import pytest

from app.accounts.models import Role
from app.ids import global_id
from app.promotions import types
from app.promotions.models import PromotionRequest
from tests.promotions.world import CI, World, env_source, request_row
from tests.support.queries import assert_flat, count_queries

PENDING = """query($app: String, $env: String, $mine: Boolean, $first: Int, $after: String) {
  pendingApprovals(application: $app, targetEnvironment: $env, pendingWithMe: $mine,
                   first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id status comment source { type environment } targetEnvironment { name }
      requestedBy { email } requiredApprovals approvals { user { email } at }
      canApprove cannotApproveReason image { tag builtBy { email } } application { name }
      policy { name }
    } }
  }
}"""


async def pending(world: World, token: str, **variables: Any) -> dict[str, Any]:
    return (await world.gql(PENDING, variables, token=token))["pendingApprovals"]


async def requests(world: World, count: int, approvals: int = 2) -> list[int]:
    await world.policy("careful", "prod", "staging", approver_count=approvals)
    ids = []
    for i in range(count):
        image = await world.image(f"1.{i}")
        [r] = await world.promote(world.tokens["dev"], image, ["prod"])
        ids.append(request_row(r))
    return ids


def gid(request: int) -> str:
    """The id the API gives request row `request`."""
    return global_id("PromotionRequest", request)


async def test_pending_with_me_by_default(world: World) -> None:
    [first, second] = await requests(world, 2)
    page = await pending(world, world.tokens["approver"])
    assert [e["node"]["id"] for e in page["edges"]] == [gid(second), gid(first)]
    node = page["edges"][0]["node"]
    assert node["canApprove"] is True and node["cannotApproveReason"] is None
    assert node["source"] == {"type": "CI", "environment": None}
    assert node["requiredApprovals"] == 2 and node["approvals"] == []
    await world.decide(world.tokens["approver"], [first])
    page = await pending(world, world.tokens["approver"])
    assert [e["node"]["id"] for e in page["edges"]] == [gid(second)], "approved by me: gone"
    # Nothing pending for someone without the role, nor for the requester or builder.
    for who in ("viewer", "dev", "builder"):
        assert (await pending(world, world.tokens[who]))["totalCount"] == 0, who


async def test_all_pending_with_reasons(world: World) -> None:
    [first, _] = await requests(world, 2)
    await world.decide(world.tokens["approver"], [first])
    page = await pending(world, world.tokens["approver"], mine=False)
    assert page["totalCount"] == 2
    reasons = {e["node"]["id"]: e["node"]["cannotApproveReason"] for e in page["edges"]}
    assert reasons[gid(first)] == "you have already approved this request"
    page = await pending(world, world.tokens["dev"], mine=False)
    assert {e["node"]["canApprove"] for e in page["edges"]} == {False}
    assert "ARTIFACT_PROMOTER" in page["edges"][0]["node"]["cannotApproveReason"]


async def test_pending_filters_and_wildcards(world: World) -> None:
    await requests(world, 1)
    image = await world.image("9.0")
    await world.promote(world.tokens["dev"], image, ["staging"])
    everywhere = world.tokens["approver2"]  # ARTIFACT_PROMOTER on */*
    assert (await pending(world, everywhere))["totalCount"] == 2
    assert (await pending(world, everywhere, env="staging"))["totalCount"] == 1
    assert (await pending(world, everywhere, app="other"))["totalCount"] == 0
    # approver holds the role on shop/prod only.
    only_prod = await pending(world, world.tokens["approver"])
    assert [e["node"]["targetEnvironment"]["name"] for e in only_prod["edges"]] == ["prod"]


async def test_super_admin_sees_pending_but_flags_still_apply(world: World) -> None:
    await requests(world, 1)
    admin = await world.people.admin("boss@example.com")
    assert (await pending(world, admin))["totalCount"] == 1
    image = await world.image("4.4", built_by="boss")
    await world.promote(world.tokens["dev"], image, ["prod"])
    page = await pending(world, admin)
    assert page["totalCount"] == 1, "the image boss built is not pending with boss"


async def test_paging_with_cursors(world: World) -> None:
    ids = await requests(world, 5)
    token = world.tokens["approver"]
    first = await pending(world, token, first=2)
    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"] is True
    second = await pending(world, token, first=2, after=first["pageInfo"]["endCursor"])
    third = await pending(world, token, first=2, after=second["pageInfo"]["endCursor"])
    seen = [e["node"]["id"] for page in (first, second, third) for e in page["edges"]]
    assert seen == [gid(i) for i in reversed(ids)]
    assert third["pageInfo"]["hasNextPage"] is False
    body = await world.gql.raw(PENDING, {"first": 101}, token=token)
    assert body["errors"][0]["extensions"]["field"] == "first"
    body = await world.gql.raw(PENDING, {"after": "garbage"}, token=token)
    assert body["errors"][0]["extensions"]["field"] == "after"


@pytest.mark.parametrize("query", ["pendingApprovals", "promotionRequests"])
async def test_list_queries_do_not_grow_with_the_page(world: World, query: str) -> None:
    await requests(world, 50)
    document = (
        PENDING.replace(
            "pendingApprovals(application: $app, targetEnvironment: $env, pendingWithMe: $mine,",
            "pendingApprovals(",
        )
        if (query == "pendingApprovals")
        else PENDING.replace(
            "pendingApprovals(application: $app, targetEnvironment: $env, pendingWithMe: $mine,",
            "promotionRequests(",
        ).replace("pendingApprovals", "promotionRequests")
    )
    document = document.replace("$app: String, $env: String, $mine: Boolean, ", "")

    async def read(first: int) -> int:
        data = await world.gql(document, {"first": first}, token=world.tokens["approver"])
        return len(data[query]["edges"])

    await assert_flat(read, sizes=(1, 50))


@pytest.mark.parametrize("mine", [True, False])
async def test_total_count_is_counted_only_when_selected(world: World, mine: bool) -> None:
    await requests(world, 3)
    page = "edges { node { id } }"
    document = "query($mine: Boolean) { pendingApprovals(pendingWithMe: $mine) { %s } }"
    token = world.tokens["approver"]
    with count_queries() as without:
        data = await world.gql(document % page, {"mine": mine}, token=token)
    assert len(data["pendingApprovals"]["edges"]) == 3
    with count_queries() as with_count:
        data = await world.gql(document % f"totalCount {page}", {"mine": mine}, token=token)
    assert data["pendingApprovals"]["totalCount"] == 3
    counts = [s for s in with_count if "COUNT(" in s.upper()]
    assert len(counts) == 1 and len(with_count) == len(without) + 1, with_count
    assert not [s for s in without if "COUNT(" in s.upper()], without


async def test_the_approval_blocker_runs_once_per_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    [first, _, _] = await requests(world, 3)
    await world.decide(world.tokens["approver"], [first])
    calls = []

    def counted(*args: Any, **kwargs: Any) -> tuple[str, str] | None:
        calls.append(kwargs["requested_by_id"])
        return real(*args, **kwargs)

    real = types.approval_blocker
    monkeypatch.setattr(types, "approval_blocker", counted)
    page = await pending(world, world.tokens["approver"], mine=False)
    assert [e["node"]["canApprove"] for e in page["edges"]] == [True, True, False]
    assert page["edges"][2]["node"]["cannotApproveReason"] == (
        "you have already approved this request"
    )
    assert len(calls) == 3, "canApprove and cannotApproveReason share one evaluation per row"


async def test_promotion_requests_filter_by_status_and_visibility(world: World) -> None:
    [first, second] = await requests(world, 2)
    await world.gql(
        "mutation($id: ID!) { cancelPromotionRequest(requestId: $id) { errors { message } } }",
        {"id": gid(first)},
        token=world.tokens["dev"],
    )
    query = """query($s: [PromotionStatus!]) { promotionRequests(status: $s) {
        totalCount edges { node { id status } } } }"""
    data = await world.gql(query, {"s": ["CANCELLED"]}, token=world.tokens["viewer"])
    assert data["promotionRequests"]["edges"] == [
        {"node": {"id": gid(first), "status": "CANCELLED"}}
    ]
    data = await world.gql(query, {}, token=world.tokens["viewer"])
    assert data["promotionRequests"]["totalCount"] == 2
    outsider = await world.people.token("out@example.com")
    data = await world.gql(query, {}, token=outsider)
    assert data["promotionRequests"]["totalCount"] == 0
    data = await world.gql(
        "query($id: ID!) { promotionRequest(id: $id) { id } }", {"id": gid(second)}, token=outsider
    )
    assert data["promotionRequest"] is None


async def test_promotable_images(world: World) -> None:
    old, new = await world.image("1.0"), await world.image("2.0")
    query = """query($source: ImageSourceInput!) {
        promotableImages(application: "shop", workflow: "main", source: $source) {
        totalCount edges { node { id tag } } } }"""
    data = await world.gql(query, {"source": CI}, token=world.tokens["viewer"])
    assert [e["node"]["id"] for e in data["promotableImages"]["edges"]] == [
        global_id("Image", new),
        global_id("Image", old),
    ]
    await world.pass_stages(old, "staging")
    data = await world.gql(query, {"source": env_source("staging")}, token=world.tokens["viewer"])
    assert [e["node"]["tag"] for e in data["promotableImages"]["edges"]] == ["1.0"]
    body = await world.gql.raw(query, {"source": env_source("qa")}, token=world.tokens["viewer"])
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_promotion_targets(world: World) -> None:
    query = """{ promotionTargets(application: "shop", workflow: "main") {
        environment { name } policy { name } } }"""
    assert (await world.gql(query, token=world.tokens["viewer"]))["promotionTargets"] == []
    await world.policy("careful", "prod", "dev", approver_count=1)
    data = await world.gql(query, token=world.tokens["viewer"])
    assert data["promotionTargets"] == [
        {"environment": {"name": "dev"}, "policy": {"name": "careful"}},
        {"environment": {"name": "prod"}, "policy": {"name": "careful"}},
    ]


async def test_preview_answers_like_promote_and_writes_nothing(world: World) -> None:
    await world.policy(
        "careful",
        "prod",
        approver_count=1,
        pass_condition='"stable" in imageLabels',
        fail_condition="false",
    )
    await world.user("promoter-all", (Role.ARTIFACT_PROMOTER, "*", "prod"))
    await world.user("inactive", (Role.ARTIFACT_PROMOTER, "shop", "prod"))
    from app.accounts.models import User

    await User.filter(email="inactive@example.com").update(active=False)
    image = await world.image(labels=["stable"])
    query = """query($i: ID!, $t: [String!]!) { promotionPreview(imageId: $i,
        source: {type: CI}, targetEnvironments: $t) { environment outcome message
        passCondition { expression result error } failCondition { result }
        requiredApprovals eligibleApprovers { email } } }"""
    data = await world.gql(
        query,
        {"i": global_id("Image", image), "t": ["prod", "staging", "qa"]},
        token=world.tokens["dev"],
    )
    prod, staging, qa = data["promotionPreview"]
    assert prod["outcome"] == "AWAITING_APPROVAL" and prod["requiredApprovals"] == 1
    assert prod["passCondition"] == {
        "expression": '"stable" in imageLabels',
        "result": True,
        "error": None,
    }
    assert prod["failCondition"] == {"result": False}
    assert [u["email"] for u in prod["eligibleApprovers"]] == [
        "approver2@example.com",
        "approver@example.com",
        "promoter-all@example.com",
    ]
    assert staging["outcome"] == "POLICY_NOT_CONFIGURED"
    assert qa["outcome"] == "NOT_IN_WORKFLOW"
    assert await PromotionRequest.all().count() == 0
    [real] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert real["outcome"] == prod["outcome"]


async def test_unknown_application_is_named_as_such(world: World) -> None:
    body = await world.gql.raw(
        '{ promotionTargets(application: "nope", workflow: "main") { environment { name } } }',
        token=world.admin,
    )
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "application"}
