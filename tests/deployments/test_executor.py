"""The deployment executor (noop and webhook), AUTOMATIC triggers, and status from stage runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest

from app.accounts.access import SYSTEM
from app.catalog.models import Stage, StageRun, StageStatus, Trigger
from app.catalog.service import record_stage_result
from app.db import unit_of_work
from app.deployments.models import Deployment
from app.ids import global_id
from app.settings import get_settings
from tests.conftest import People
from tests.deployments.conftest import deploy, make_world, promoted_image
from tests.promotions.world import drain
from tests.support.deployer import Deployer, verify
from tests.support.graphql import GraphQLClient
from tests.support.ids import row

SECRET = "s3cret"


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings = get_settings()
    monkeypatch.setattr(settings, "deploy_executor", "webhook")
    monkeypatch.setattr(settings, "deploy_webhook_secret", SECRET)
    monkeypatch.setattr(settings, "deploy_webhook_backoff_seconds", 0.01)
    yield


async def test_noop_reports_every_configured_stage(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin, pre_stage=True, post_stage=True)
    image, _ = await promoted_image(world)
    result = await deploy(world, world.tokens["dev"], image)
    await drain()
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    assert deployment.status == "SUCCEEDED"
    runs = await StageRun.filter(deployment_id=deployment.id).order_by("id")
    assert [(r.stage, r.status) for r in runs] == [
        ("PRE", "SUCCEEDED"),
        ("DEPLOY", "SUCCEEDED"),
        ("POST", "SUCCEEDED"),
    ]


async def test_webhook_is_signed_retried_and_followed_by_stage_reports(
    gql: GraphQLClient,
    people: People,
    admin: str,
    webhook: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await make_world(gql, people, admin, post_stage=True)
    image, request = await promoted_image(world)
    with Deployer([503, 200]) as deployer:
        monkeypatch.setattr(get_settings(), "deploy_webhook_url", deployer.url)
        result = await deploy(world, world.tokens["dev"], image)
        await drain()
    deployment_id = row(result["deployment"]["id"], "Deployment")
    assert len(deployer.received) == 2, "one transient failure, then delivered"
    headers, body = deployer.received[-1]
    signed = headers["X-Hoist-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["X-Hoist-Signature"] == expected
    # The API's own ids, so the receiver can match them with what the API shows.
    assert headers["X-Hoist-Delivery"] == global_id("Deployment", deployment_id)
    sent = json.loads(body)
    assert sent["deploymentId"] == result["deployment"]["id"] == headers["X-Hoist-Delivery"]
    assert sent["image"]["id"] == global_id("Image", image)
    assert sent["environment"] == "prod" and sent["stages"] == ["DEPLOY", "POST"]
    assert sent["promotionRequestId"] == global_id("PromotionRequest", request)
    assert (await Deployment.get(id=deployment_id)).status == "RUNNING"
    # The deployer reports back with the image id it was sent; the deployment follows
    # its stage runs.
    report = """mutation($i: ID!, $s: Stage!, $st: StageStatus!) { recordStageResult(input:
        {imageId: $i, environment: "prod", stage: $s, status: $st}) { errors { message } } }"""
    await world.gql(
        report,
        {"i": sent["image"]["id"], "s": "DEPLOY", "st": "SUCCEEDED"},
        token=world.tokens["dev"],
    )
    assert (await Deployment.get(id=deployment_id)).status == "RUNNING"
    await world.gql(
        report,
        {"i": sent["image"]["id"], "s": "POST", "st": "SUCCEEDED"},
        token=world.tokens["dev"],
    )
    assert (await Deployment.get(id=deployment_id)).status == "SUCCEEDED"


async def test_a_receiver_that_checks_timestamp_and_signature_takes_the_delivery(
    gql: GraphQLClient,
    people: People,
    admin: str,
    webhook: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await make_world(gql, people, admin)
    image, _ = await promoted_image(world)
    with Deployer([503], secret=SECRET) as deployer:
        monkeypatch.setattr(get_settings(), "deploy_webhook_url", deployer.url)
        result = await deploy(world, world.tokens["dev"], image)
        await drain()
    # The receiver (the README's recipe) refused nothing, the retry included.
    assert deployer.rejected == 0 and len(deployer.received) == 2
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    assert deployment.status == "RUNNING"
    headers, body = deployer.received[-1]
    sent_at = int(headers["X-Hoist-Timestamp"])
    assert abs(time.time() - sent_at) < 60
    assert verify(SECRET, headers, body)
    # Captured and replayed later, the same delivery is refused; so is a changed stamp.
    assert not verify(SECRET, headers, body, now=sent_at + 301)
    assert not verify(
        SECRET, {**headers, "X-Hoist-Timestamp": str(sent_at + 200)}, body, now=sent_at + 200
    )


async def test_the_receivers_answer_is_not_kept_where_viewers_read(
    gql: GraphQLClient,
    people: People,
    admin: str,
    webhook: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await make_world(gql, people, admin)
    image, _ = await promoted_image(world)
    leak = b"Traceback: connect(postgres://deployer:hunter2@10.0.0.5/deploys) failed"
    with Deployer([500, 403], body=leak) as deployer:
        monkeypatch.setattr(get_settings(), "deploy_webhook_url", deployer.url)
        await deploy(world, world.tokens["dev"], image)
        await drain()
    assert len(deployer.received) == 2
    history = await world.gql(
        '{ deploymentHistory(application: "shop") { edges { node { status error } } } }',
        token=world.tokens["viewer"],
    )
    [node] = [e["node"] for e in history["deploymentHistory"]["edges"]]
    assert node == {"status": "FAILED", "error": "webhook failed: HTTP 403 Forbidden"}
    audit = await world.gql(
        '{ auditLog(action: "deployment.failed") { edges { node { data } } } }', token=world.admin
    )
    [event] = audit["auditLog"]["edges"]
    assert "hunter2" not in event["node"]["data"]
    assert json.loads(event["node"]["data"])["error"] == "webhook failed: HTTP 403 Forbidden"


async def test_webhook_permanent_failure_fails_the_deployment(
    gql: GraphQLClient,
    people: People,
    admin: str,
    webhook: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await make_world(gql, people, admin)
    image, _ = await promoted_image(world)
    with Deployer([400]) as deployer:
        monkeypatch.setattr(get_settings(), "deploy_webhook_url", deployer.url)
        result = await deploy(world, world.tokens["dev"], image)
        await drain()
    assert len(deployer.received) == 1, "a 4xx is not retried"
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    assert deployment.status == "FAILED" and "HTTP 400" in (deployment.error or "")


async def test_webhook_gives_up_after_its_attempts(
    gql: GraphQLClient,
    people: People,
    admin: str,
    webhook: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await make_world(gql, people, admin)
    image, _ = await promoted_image(world)
    monkeypatch.setattr(get_settings(), "deploy_webhook_attempts", 3)
    with Deployer([502, 502, 502, 200]) as deployer:
        monkeypatch.setattr(get_settings(), "deploy_webhook_url", deployer.url)
        result = await deploy(world, world.tokens["dev"], image)
        await drain()
    assert len(deployer.received) == 3
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    assert deployment.status == "FAILED" and "HTTP 502" in (deployment.error or "")


@pytest.mark.parametrize("trigger", [Trigger.AUTOMATIC, Trigger.MANUAL])
async def test_auto_deploy_after_promotion(
    gql: GraphQLClient, people: People, admin: str, trigger: Trigger
) -> None:
    world = await make_world(gql, people, admin, trigger=trigger)
    image, request = await promoted_image(world)
    deployments = await Deployment.filter(image_id=image)
    if trigger == Trigger.MANUAL:
        assert deployments == []
        return
    [deployment] = deployments
    assert deployment.deployed_by_id is None, "the system deployed it"
    assert deployment.promotion_request_id == request
    await drain()
    await deployment.refresh_from_db()
    assert deployment.status == "SUCCEEDED"


async def test_blocked_auto_deploy_is_recorded_on_the_request(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(
        gql, people, admin, trigger=Trigger.AUTOMATIC, deployment_approval_count=1
    )
    image, request = await promoted_image(world)
    assert await Deployment.filter(image_id=image).count() == 0
    data = await world.gql(
        "query($id: ID!) { promotionRequest(id: $id) { status autoDeployBlockedReason } }",
        {"id": global_id("PromotionRequest", request)},
        token=world.admin,
    )
    assert data["promotionRequest"] == {
        "status": "PROMOTED",
        "autoDeployBlockedReason": "needs 1 deployment approval(s), has 0",
    }
    audit = await world.gql(
        '{ auditLog(action: "deployment.auto_blocked") { edges { node { '
        "environment data actor { email } } } } }",
        token=world.admin,
    )
    [event] = audit["auditLog"]["edges"]
    assert event["node"]["environment"] == "prod" and event["node"]["actor"] is None
    assert "deployment approval" in json.loads(event["node"]["data"])["reason"]


async def test_normal_path_feeds_automatic_children(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(gql, people, admin, trigger=Trigger.AUTOMATIC)
    image = await world.image()
    async with unit_of_work():
        await record_stage_result(SYSTEM, image, "staging", Stage.PRE, StageStatus.SUCCEEDED)
        assert await Deployment.filter(image_id=image).count() == 0, "DEPLOY not yet passed"
        await record_stage_result(SYSTEM, image, "staging", Stage.DEPLOY, StageStatus.SUCCEEDED)
    [deployment] = await Deployment.filter(image_id=image)
    assert deployment.promotion_request_id is None and deployment.environment_id
    await drain()
    await deployment.refresh_from_db()
    assert deployment.status == "SUCCEEDED"
