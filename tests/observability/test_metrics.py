"""/metrics in one process: the token, what each counter counts, bounded labels, and the
database's gauges (tests/e2e/test_metrics_stack.py runs the real server and worker)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from app import clock
from app.accounts.access import Access
from app.accounts.models import User
from app.catalog.models import Environment, Image
from app.db import unit_of_work
from app.ids import global_id
from app.outbox.models import OutboxJob
from app.promotions import service
from app.promotions.checks import Source
from app.promotions.models import PromotionRequest, PromotionStatus, SourceType
from app.settings import get_settings
from tests.observability.scrape import Scrape, moved
from tests.promotions.world import PROMOTE, World, drain, request_row
from tests.support.catalog import make_catalog, make_image
from tests.support.graphql import GraphQLClient


async def scrape(gql: GraphQLClient, token: str | None = None) -> Scrape:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await gql.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(response.text)


async def test_the_token_guards_metrics(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "metrics_token", SecretStr("scrape-me-4821"))
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer scrape-me-48210"},
        {"Authorization": "Basic scrape-me-4821"},
    ):
        refused = await gql.http.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "scrape-me" not in refused.text
    assert (await scrape(gql, "scrape-me-4821")).names()


async def test_no_token_set_means_open(gql: GraphQLClient) -> None:
    assert get_settings().metrics_token is None
    assert "hoist_promotion_requests" in (await scrape(gql)).names()


async def test_promotion_approval_and_job_counted_once_each(world: World) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image("4.2.0")
    before = await scrape(world.gql)
    result, _ = await world.promote(world.tokens["dev"], image, ["prod", "nowhere"])
    await world.decide(world.tokens["approver"], [request_row(result)])
    await drain()
    after = await scrape(world.gql)

    assert moved(before, after, "hoist_promotions_total", outcome="AWAITING_APPROVAL") == 1
    assert moved(before, after, "hoist_promotions_total", outcome="NOT_IN_WORKFLOW") == 1
    assert moved(before, after, "hoist_promotions_total") == 2
    decisions = "hoist_approval_decisions_total"
    assert moved(before, after, decisions, kind="APPROVE", outcome="PROMOTING") == 1
    assert moved(before, after, decisions) == 1
    assert moved(before, after, "hoist_approval_wait_seconds_count") == 1
    lifetime = "hoist_promotion_request_lifetime_seconds_count"
    assert moved(before, after, lifetime, status="PROMOTED") == 1
    job = "hoist_worker_job_duration_seconds_count"
    assert moved(before, after, job, task="promotions.promote") == 1
    ops = "hoist_graphql_operations_total"
    assert moved(before, after, ops, operation="promoteImage", result="success") == 1
    assert moved(before, after, ops, operation="approvePromotionRequests", result="success") == 1
    duration = "hoist_graphql_operation_duration_seconds_count"
    assert moved(before, after, duration, operation="promoteImage") == 1


async def test_a_rolled_back_promotion_counts_nothing(world: World) -> None:
    await world.policy("fast-lane", "prod")
    image = await world.image()
    dev = await Access.of(await User.get(id=world.user_ids["dev"]))
    before = await scrape(world.gql)
    with pytest.raises(RuntimeError):
        async with unit_of_work():
            [result] = await service.promote_image(
                dev, image, Source(SourceType.CI), ["prod"], None
            )
            assert result.outcome == "PROMOTING"
            raise RuntimeError("the door's transaction fails after the service ran")
    after = await scrape(world.gql)
    assert moved(before, after, "hoist_promotions_total") == 0


async def test_graphql_operation_labels_are_root_fields(world: World) -> None:
    gql, token = world.gql, world.tokens["viewer"]
    before = await scrape(gql)
    await gql.raw("query MyVeryOwnName { me { email } }", token=token)
    two_fields = '{ me { email } promotionTargets(application: "shop", workflow: "main") {'
    two_fields += " policy { name } } }"
    await gql.raw(two_fields, token=token)
    await gql.raw("{ __schema { queryType { name } } }", token=token)
    await gql.raw("{ me { ", token=token)  # does not parse
    await gql.raw("{ noSuchField }", token=token)  # does not validate
    await gql.raw("{ me { email } }")  # no token: a top-level error
    after = await scrape(gql)
    ops = "hoist_graphql_operations_total"
    assert moved(before, after, ops, operation="me", result="success") == 1
    assert moved(before, after, ops, operation="multiple", result="success") == 1
    assert moved(before, after, ops, operation="introspection", result="success") == 1
    assert moved(before, after, ops, operation="other", result="invalid") == 2
    assert moved(before, after, ops, operation="me", result="error") == 1
    assert "MyVeryOwnName" not in after.label_values()


async def test_no_label_value_names_an_image_tag_or_a_user(world: World) -> None:
    """Two users promote two images with distinctive tags; no label carries either."""
    await world.policy("careful", "prod", approver_count=1)
    first = await world.image("9.9.1-zebra")
    second = await world.image("9.9.2-okapi")
    for name, image in (("dev", first), ("builder", second)):
        await world.gql.raw(
            PROMOTE.replace("mutation(", f"mutation Promote_{name}_example_com("),
            {"image": global_id("Image", image), "source": {"type": "CI"}, "targets": ["prod"]},
            token=world.tokens[name],
        )
    await drain()
    values = (await scrape(world.gql)).label_values()
    assert values, "the scrape has labels"
    for value in values:
        for secret in ("zebra", "okapi", "9.9.", "example.com", "dev@", "builder@", "Promote_"):
            assert secret not in value, (secret, value)


@pytest.fixture
def fixed_clock() -> Iterator[datetime]:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    clock.set_source(lambda: at)
    yield at
    clock.set_source(None)


async def test_database_gauges_match_a_known_fixture(
    gql: GraphQLClient, fixed_clock: datetime
) -> None:
    async with unit_of_work():
        await make_catalog()
        image: Image = await make_image()
    prod = await Environment.get(name="prod")
    user = await User.create(email="requester@example.com", name="requester")
    statuses = [
        PromotionStatus.AWAITING_APPROVAL,
        PromotionStatus.AWAITING_APPROVAL,
        PromotionStatus.AWAITING_APPROVAL,
        PromotionStatus.PROMOTED,
        PromotionStatus.REJECTED,
    ]
    for status in statuses:
        await PromotionRequest.create(
            image_id=image.id,
            application_id=image.application_id,
            workflow_id=image.workflow_id,
            source_type=SourceType.CI,
            target_environment_id=prod.id,
            status=status,
            requested_by_id=user.id,
            policy_name="lane",
            policy_version=1,
            required_approvals=1,
        )
    await OutboxJob.all().delete()  # whatever the set-up wrote: only the fixture's count
    ages = {"pending-old": 95, "pending-new": 5, "done": 500, "dead": 900}
    for task, age in ages.items():
        job = await OutboxJob.create(task=task)
        done = fixed_clock if task == "done" else None
        dead = fixed_clock if task == "dead" else None
        await OutboxJob.filter(id=job.id).update(
            created_at=fixed_clock - timedelta(seconds=age), done_at=done, dead_at=dead
        )

    metrics = await scrape(gql)
    assert {s.labels["state"]: s.value for s in metrics.of("hoist_promotion_requests")} == {
        status.value: float(statuses.count(status)) for status in PromotionStatus
    }
    assert metrics.value("hoist_outbox_backlog_jobs") == 2
    assert metrics.value("hoist_outbox_oldest_pending_age_seconds") == 95
