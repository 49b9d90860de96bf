"""Costly CEL over HTTP (issue 11 item 2): refused at save, bounded at run time, and never
on the event loop, so /healthz keeps answering."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from app.accounts.access import SYSTEM
from app.accounts.models import Role
from app.catalog import service as catalog
from app.cel import limits as cel_limits
from app.db import unit_of_work
from app.ids import global_id
from app.policies import service as policies
from app.policies.models import PromotionPolicy
from tests.conftest import People
from tests.policies.helpers import CREATE
from tests.policies.test_cel_limits import BUDGET, doubling, nested
from tests.promotions.world import build_world
from tests.support.graphql import GraphQLClient

VALIDATE = "query($e: String!) { validateCondition(expression: $e) }"
PREVIEW = """query($i: ID!, $t: [String!]!) { promotionPreview(imageId: $i, source: {type: CI},
    targetEnvironments: $t) { environment outcome message passCondition { error } } }"""
# The 193-character freeze: six nested comprehensions, 10^6 iterations (~31 s).
BOMB = nested(6)


async def _timed(coroutine: Any, finished: dict[str, float], name: str) -> Any:
    result = await coroutine
    finished[name] = time.monotonic()
    return result


async def test_a_viewer_sending_bombs_to_validate_condition_is_refused_and_healthz_answers(
    gql: GraphQLClient, people: People
) -> None:
    viewer = await people.token("viewer@example.com", (Role.VIEWER, "*", "*"))
    nested_answer, doubling_answer, health = await asyncio.gather(
        gql(VALIDATE, {"e": BOMB}, token=viewer),
        gql(VALIDATE, {"e": doubling(30)}, token=viewer),
        gql.http.get("/healthz"),
    )
    # Refused by the static checks at save (their messages), so nothing was evaluated:
    # today's nested one alone would hold the event loop ~31 s.
    assert nested_answer["validateCondition"].startswith("comprehensions nested too deeply")
    assert doubling_answer["validateCondition"].startswith("too many comprehensions")
    assert health.status_code == 200


async def test_create_promotion_policy_refuses_the_bomb(gql: GraphQLClient, admin: str) -> None:
    answer = await gql(CREATE, {"input": {"name": "bomb", "failCondition": BOMB}}, token=admin)
    [error] = answer["createPromotionPolicy"]["errors"]
    assert error["code"] == "INVALID_CONDITION"
    assert error["message"].startswith("failCondition: comprehensions nested too deeply")
    assert not await PromotionPolicy.exists(name="bomb")


async def test_type_errors_are_refused_over_http_with_the_position(
    gql: GraphQLClient, admin: str
) -> None:
    message = (await gql(VALIDATE, {"e": "imageLabels + 1"}, token=admin))["validateCondition"]
    assert message == (
        "type error at line 1, column 1: '+' cannot be applied to list(string) and int"
    )
    answer = await gql(
        CREATE, {"input": {"name": "typed", "passCondition": "1/0 == 1"}}, token=admin
    )
    [error] = answer["createPromotionPolicy"]["errors"]
    assert error["message"] == (
        "passCondition: division by zero at line 1, column 1: the divisor is a literal 0"
    )


async def test_a_bomb_saved_before_the_limits_is_stopped_off_the_event_loop(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await build_world(gql, people, admin)
    async with unit_of_work():
        # Written directly: saving refuses it now, but older rows may hold such conditions.
        await PromotionPolicy.create(name="old-bomb", pass_condition=BOMB)
        await policies.apply_policy(SYSTEM, "old-bomb", [policies.Pair("shop", "prod")])
    image = await world.image("1.0")

    finished: dict[str, float] = {}
    preview = asyncio.create_task(
        _timed(
            gql(
                PREVIEW, {"i": global_id("Image", image), "t": ["prod"]}, token=world.tokens["dev"]
            ),
            finished,
            "preview",
        )
    )
    health = await _timed(gql.http.get("/healthz"), finished, "healthz")
    [verdict] = (await preview)["promotionPreview"]

    assert health.status_code == 200
    # The evaluation runs on the CEL threads: /healthz does not wait for it.
    assert finished["healthz"] < finished["preview"]
    assert verdict["outcome"] == "BLOCKED_BY_POLICY"
    steps = cel_limits.RUNTIME_BUDGET.steps
    assert verdict["passCondition"]["error"] == f"{BUDGET}: more than {steps:,} steps"
    assert verdict["message"] == (
        f"blocked by policy old-bomb: pass condition error: {BUDGET}: more than {steps:,} steps"
    )


@pytest.mark.usefixtures("steps_not_seconds")
async def test_validate_condition_stays_open_with_a_tighter_budget_it_documents(
    gql: GraphQLClient, people: People
) -> None:
    """The choice for validateCondition (issue 11 item 2): open to every signed-in user,
    bounded like saving, with a trial budget far below the run-time one."""
    viewer = await people.token("viewer@example.com", (Role.VIEWER, "*", "*"))
    forty = "[" + ", ".join(str(i) for i in range(40)) + "]"
    costly = f"{forty}.all(a, {forty}.all(b, b >= 0))"  # 1,600 steps: fine at run time
    steps = cel_limits.VALIDATION_BUDGET.steps
    assert steps < 1_600 < cel_limits.RUNTIME_BUDGET.steps
    answer = await gql(VALIDATE, {"e": costly}, token=viewer)
    assert answer["validateCondition"] == (
        f"{BUDGET}: more than {steps:,} steps (on a small sample image)"
    )

    fields = (
        await gql("{ __schema { queryType { fields { name description } } } }", token=viewer)
    )["__schema"]["queryType"]["fields"]
    [description] = [f["description"] for f in fields if f["name"] == "validateCondition"]
    assert "Open to every signed-in user" in description
    assert f"{steps} steps" in description


CREATE_WORKFLOW = """mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) { workflow { name } errors { code message field } } }"""


async def test_cd_filter_conditions_get_the_same_checks(gql: GraphQLClient, admin: str) -> None:
    async with unit_of_work():
        await catalog.create_application(SYSTEM, "shop")
        await catalog.create_environment(SYSTEM, "dev", False)
    answer = await gql(
        CREATE_WORKFLOW,
        {
            "input": {
                "application": "shop",
                "name": "main",
                "ciPipeline": "shop-ci",
                "cdPipelines": [
                    {
                        "environment": "dev",
                        "filterPassCondition": "imageLabels + 1",
                        "filterFailCondition": BOMB,
                    }
                ],
            }
        },
        token=admin,
    )
    errors = {e["field"]: (e["code"], e["message"]) for e in answer["createWorkflow"]["errors"]}
    assert errors["cdPipelines[0].filterPassCondition"] == (
        "INVALID_CONDITION",
        (
            "cdPipelines[0].filterPassCondition: type error at line 1, column 1: '+' cannot be "
            "applied to list(string) and int"
        ),
    )
    code, message = errors["cdPipelines[0].filterFailCondition"]
    assert code == "INVALID_CONDITION"
    assert message.startswith(
        "cdPipelines[0].filterFailCondition: comprehensions nested too deeply"
    )
    assert answer["createWorkflow"]["workflow"] is None
