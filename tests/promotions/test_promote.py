"""promoteImage: every outcome code, in the order SPEC §4 checks them."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.ids import global_id
from app.outbox.models import OutboxJob
from app.promotions.models import PromotionRequest
from tests.promotions.world import World, drain, env_source, request_row
from tests.support.catalog import refused


async def test_no_approvals_needed_promotes_through_the_job(world: World) -> None:
    await world.policy("fast-lane", "prod")
    image = await world.image()
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert result["outcome"] == "PROMOTING"
    request_id = request_row(result)
    # The job row was written with the request, in the same transaction.
    assert await OutboxJob.filter(task="promotions.promote").count() == 1
    await drain()
    assert await world.request_status(request_id) == "PROMOTED"
    assert (await OutboxJob.get(task="promotions.promote")).done_at is not None
    # Running the job again changes nothing.
    assert await drain() == 0
    assert (await PromotionRequest.get(id=request_id)).promoted_at is not None


async def test_approvals_needed_waits(world: World) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert result["outcome"] == "AWAITING_APPROVAL"
    assert result["request"]["status"] == "AWAITING_APPROVAL"
    assert await OutboxJob.filter(task="promotions.promote").count() == 0


async def test_outcomes_per_target_in_order_asked(world: World) -> None:
    await world.policy("fast-lane", "prod", "staging")
    image = await world.image()
    results = await world.promote(world.tokens["dev"], image, ["nowhere", "prod", "staging"])
    assert [r["environment"] for r in results] == ["nowhere", "prod", "staging"]
    assert [r["outcome"] for r in results] == ["NOT_IN_WORKFLOW", "PROMOTING", "PROMOTING"]


async def test_source_environment_checks(world: World) -> None:
    await world.policy("fast-lane", "prod", "staging", "dev")
    image = await world.image()
    token = world.tokens["dev"]
    [r] = await world.promote(token, image, ["prod"], env_source("dev"))
    assert r["outcome"] == "NOT_PASSED_AT_SOURCE"
    await world.pass_stages(image, "dev")
    results = await world.promote(token, image, ["dev", "prod"], env_source("dev"))
    assert [r["outcome"] for r in results] == ["SAME_AS_SOURCE", "PROMOTING"]
    await world.pass_stages(image, "staging")
    [r] = await world.promote(token, image, ["dev"], env_source("staging"))
    assert r["outcome"] == "ORDER_MISMATCH"


async def test_partial_stage_pass_is_not_passed(world: World) -> None:
    """staging has a PRE stage: DEPLOY alone does not make the image pass there."""
    from app.accounts.access import SYSTEM
    from app.catalog.models import Stage, StageStatus
    from app.catalog.service import record_stage_result
    from app.db import unit_of_work

    await world.policy("fast-lane", "prod")
    image = await world.image()
    async with unit_of_work():
        await record_stage_result(SYSTEM, image, "staging", Stage.DEPLOY, StageStatus.SUCCEEDED)
    [r] = await world.promote(world.tokens["dev"], image, ["prod"], env_source("staging"))
    assert r["outcome"] == "NOT_PASSED_AT_SOURCE"
    async with unit_of_work():
        await record_stage_result(SYSTEM, image, "staging", Stage.PRE, StageStatus.SUCCEEDED)
        await record_stage_result(SYSTEM, image, "staging", Stage.DEPLOY, StageStatus.FAILED)
    [r] = await world.promote(world.tokens["dev"], image, ["prod"], env_source("staging"))
    assert r["outcome"] == "NOT_PASSED_AT_SOURCE", "the latest DEPLOY run failed"


async def test_forbidden_without_build_deploy_on_target(world: World) -> None:
    await world.policy("fast-lane", "prod", "staging")
    image = await world.image()
    narrow = await world.user("narrow", (Role.BUILD_DEPLOY, "shop", "staging"))
    results = await world.promote(narrow, image, ["prod", "staging"])
    assert [r["outcome"] for r in results] == ["FORBIDDEN", "PROMOTING"]
    [r] = await world.promote(world.tokens["approver"], image, ["prod"])
    assert r["outcome"] == "FORBIDDEN"


async def test_policy_not_configured(world: World) -> None:
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "POLICY_NOT_CONFIGURED"


async def test_already_requested_then_already_promoted(world: World) -> None:
    await world.policy("careful", "prod", approver_count=1)
    await world.policy("fast-lane", "staging")
    image = await world.image()
    await world.promote(world.tokens["dev"], image, ["prod", "staging"])
    results = await world.promote(world.tokens["builder"], image, ["prod", "staging"])
    assert [r["outcome"] for r in results] == ["ALREADY_REQUESTED", "ALREADY_PROMOTED"]
    await drain()
    [r] = await world.promote(world.tokens["builder"], image, ["staging"])
    assert r["outcome"] == "ALREADY_PROMOTED"


async def test_already_at_target(world: World) -> None:
    await world.policy("fast-lane", "prod")
    image = await world.image()
    await world.pass_stages(image, "prod")
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "ALREADY_AT_TARGET"


async def test_blocked_by_policy_names_the_condition(world: World) -> None:
    await world.policy(
        "stable-only",
        "prod",
        pass_condition='"stable" in imageLabels',
        fail_condition='containerImageTag.endsWith("-rc")',
    )
    rc = await world.image("2.0-rc", labels=["stable"])
    unlabeled = await world.image("2.0")
    broken = await world.image("2.1", labels=["stable"])
    [r] = await world.promote(world.tokens["dev"], rc, ["prod"])
    assert r["outcome"] == "BLOCKED_BY_POLICY" and "fail condition" in r["message"]
    [r] = await world.promote(world.tokens["dev"], unlabeled, ["prod"])
    assert r["outcome"] == "BLOCKED_BY_POLICY" and "pass condition" in r["message"]
    [r] = await world.promote(world.tokens["dev"], broken, ["prod"])
    assert r["outcome"] == "PROMOTING"
    assert await PromotionRequest.all().count() == 1


async def test_runtime_error_blocks_with_reason(world: World) -> None:
    await world.policy(
        "needs-key", "prod", pass_condition='gitCommitDetails["https://other"].branch == "main"'
    )
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "BLOCKED_BY_POLICY"
    assert "\n" not in r["message"] and len(r["message"]) < 400


async def test_request_records_policy_evaluation_and_source(world: World) -> None:
    await world.policy("careful", "prod", approver_count=2, pass_condition="true")
    image = await world.image()
    await world.pass_stages(image, "staging")
    [r] = await world.promote(world.tokens["dev"], image, ["prod"], env_source("staging"))
    data = await world.gql(
        """query($id: ID!) { promotionRequest(id: $id) {
        source { type environment } targetEnvironment { name } requestedBy { email }
        comment policy { name } policyVersion requiredApprovals approvals { user { email } }
        image { tag builtBy { email } } application { name } } }""",
        {"id": r["request"]["id"]},
        token=world.admin,
    )
    assert data["promotionRequest"] == {
        "source": {"type": "ENVIRONMENT", "environment": "staging"},
        "targetEnvironment": {"name": "prod"},
        "requestedBy": {"email": "dev@example.com"},
        "comment": "hotfix",
        "policy": {"name": "careful"},
        "policyVersion": 1,
        "requiredApprovals": 2,
        "approvals": [],
        "image": {"tag": "1.0", "builtBy": {"email": "builder@example.com"}},
        "application": {"name": "shop"},
    }
    row = await PromotionRequest.get(id=request_row(r))
    assert row.evaluation["eligible"] is True
    assert row.evaluation["variables"]["containerImageTag"] == "1.0"
    assert row.evaluation["passCondition"]["result"] is True


@pytest.mark.parametrize("given", ["no such image", "bare row id", "another type's id"])
async def test_unknown_image_is_not_found(world: World, given: str) -> None:
    image = await world.image()
    await world.policy("fast-lane", "prod")  # the real image's id would be PROMOTING
    image_id = {
        "no such image": global_id("Image", image + 1000),
        "bare row id": str(image),
        "another type's id": global_id("Application", image),
    }[given]
    body = await world.gql.raw(
        "mutation($i: ID!) { promoteImage(imageId: $i, source: {type: CI}, "
        'targetEnvironments: ["prod"]) { results { outcome } errors { code message field } } }',
        {"i": image_id},
        token=world.tokens["dev"],
    )
    assert refused(body, "promoteImage") == "NOT_FOUND"
    assert body["data"]["promoteImage"]["errors"][0]["field"] == "imageId"


async def test_viewer_of_other_app_cannot_see_image(world: World) -> None:
    await world.policy("fast-lane", "prod")
    image = await world.image()
    from app.accounts.access import SYSTEM
    from app.catalog.service import create_application
    from app.db import unit_of_work

    async with unit_of_work():
        await create_application(SYSTEM, "other-app")
    other = await world.user("other", (Role.BUILD_DEPLOY, "other-app", "*"))
    body = await world.gql.raw(
        "mutation($i: ID!) { promoteImage(imageId: $i, source: {type: CI}, "
        'targetEnvironments: ["prod"]) { results { outcome } errors { code message field } } }',
        {"i": global_id("Image", image)},
        token=other,
    )
    assert refused(body, "promoteImage") == "NOT_FOUND"
    assert body["data"]["promoteImage"]["errors"][0]["field"] == "imageId"
    assert await PromotionRequest.all().count() == 0


async def test_source_environment_required_for_environment_source(world: World) -> None:
    image = await world.image()
    body = await world.gql.raw(
        "mutation($i: ID!) { promoteImage(imageId: $i, source: {type: ENVIRONMENT}, "
        'targetEnvironments: ["prod"]) { results { outcome } errors { code message field } } }',
        {"i": global_id("Image", image)},
        token=world.tokens["dev"],
    )
    assert refused(body, "promoteImage") == "VALIDATION"
    assert body["data"]["promoteImage"]["errors"][0]["field"] == "source.environment"


async def test_ci_source_ignores_environment(world: World) -> None:
    await world.policy("fast-lane", "prod", "staging")
    image = await world.image()
    # The image has passed no stage of staging: were the environment read, prod would be
    # NOT_PASSED_AT_SOURCE and staging SAME_AS_SOURCE.
    ci_naming_staging = {"type": "CI", "environment": "staging"}
    results = await world.promote(
        world.tokens["dev"], image, ["prod", "staging"], ci_naming_staging
    )
    assert [(r["environment"], r["outcome"]) for r in results] == [
        ("prod", "PROMOTING"),
        ("staging", "PROMOTING"),
    ]
    for r in results:
        data = await world.gql(
            "query($id: ID!) { promotionRequest(id: $id) { source { type environment } } }",
            {"id": r["request"]["id"]},
            token=world.tokens["viewer"],
        )
        assert data["promotionRequest"]["source"] == {"type": "CI", "environment": None}
        row = await PromotionRequest.get(id=request_row(r))
        assert row.source_environment_id is None
