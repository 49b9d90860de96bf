"""The failed clauses in promotionPreview and promoteImage, and WARN policies (issue 20,
items 3 and 4): the request goes ahead and carries its warnings in GraphQL, in the
approval email and in the audit log."""

from __future__ import annotations

from typing import Any

from app.audit.models import AuditEvent
from app.ids import global_id
from app.policies.models import Enforcement, PromotionPolicy
from app.promotions.models import PromotionRequest
from tests.notifications.helpers import run_jobs
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import World, request_row

CONDITION = 'containerImageTag.startsWith("1.") && "core" in imageLabels'
CLAUSES = "failedClauses { condition expression value result error }"
PREVIEW = f"""query($i: ID!, $t: [String!]!) {{ promotionPreview(imageId: $i, source: {{type: CI}},
    targetEnvironments: $t) {{ environment outcome message {CLAUSES} }} }}"""
PROMOTE = f"""mutation($i: ID!, $t: [String!]!) {{ promoteImage(imageId: $i, source: {{type: CI}},
    targetEnvironments: $t) {{ results {{ outcome message {CLAUSES}
    request {{ id status warnings {{ condition expression value result }} }} }}
    errors {{ message }} }} }}"""
CORE_MISSING = {
    "condition": "pass",
    "expression": '"core" in imageLabels',
    "value": '"core" in ["stable"]',
    "result": False,
    "error": None,
}


async def preview(world: World, image: int) -> dict[str, Any]:
    data = await world.gql(
        PREVIEW, {"i": global_id("Image", image), "t": ["prod"]}, token=world.tokens["dev"]
    )
    [answer] = data["promotionPreview"]
    return dict(answer)


async def promote(world: World, image: int) -> dict[str, Any]:
    data = await world.gql(
        PROMOTE, {"i": global_id("Image", image), "t": ["prod"]}, token=world.tokens["dev"]
    )
    assert data["promoteImage"]["errors"] == []
    [result] = data["promoteImage"]["results"]
    return dict(result)


async def test_preview_and_promote_name_the_failed_clause_with_its_value(world: World) -> None:
    await world.policy("core-only", "prod", pass_condition=CONDITION)
    image = await world.image("1.4.2", labels=["stable"])

    answer = await preview(world, image)
    assert answer["outcome"] == "BLOCKED_BY_POLICY"
    assert answer["failedClauses"] == [CORE_MISSING]

    result = await promote(world, image)
    assert result["outcome"] == "BLOCKED_BY_POLICY"
    assert result["request"] is None
    assert result["failedClauses"] == [CORE_MISSING]

    # The other clause failing instead: that one is named, with the tag's value.
    other = await world.image("2.0", labels=["core"])
    assert (await preview(world, other))["failedClauses"] == [
        {
            "condition": "pass",
            "expression": 'containerImageTag.startsWith("1.")',
            "value": '"2.0".startsWith("1.")',
            "result": False,
            "error": None,
        }
    ]
    # An eligible image has none.
    good = await world.image("1.5", labels=["core"])
    ok = await preview(world, good)
    assert (ok["outcome"], ok["failedClauses"]) == ("PROMOTING", [])


async def test_an_or_condition_names_each_of_its_false_operands(world: World) -> None:
    await world.policy(
        "tagged", "prod", pass_condition='containerImageTag == "stable" || size(imageLabels) > 1'
    )
    image = await world.image("1.0", labels=["stable"])
    values = [c["value"] for c in (await preview(world, image))["failedClauses"]]
    assert values == ['"1.0" == "stable"', "1 > 1"]


async def test_warn_mode_promotes_and_records_the_warnings(world: World, mailbox: Mailbox) -> None:
    await world.policy(
        "core-soon",
        "prod",
        pass_condition=CONDITION,
        approver_count=1,
        enforcement=Enforcement.WARN,
    )
    image = await world.image("1.4.2", labels=["stable"])

    answer = await preview(world, image)
    assert answer["outcome"] == "AWAITING_APPROVAL"
    assert answer["failedClauses"] == [CORE_MISSING]
    assert "warns" in answer["message"]

    result = await promote(world, image)
    assert result["outcome"] == "AWAITING_APPROVAL"
    assert result["failedClauses"] == [CORE_MISSING]
    warning = {k: v for k, v in CORE_MISSING.items() if k != "error"}
    assert result["request"]["warnings"] == [warning]
    request_id = request_row(result)
    assert (await PromotionRequest.get(id=request_id)).warnings == [CORE_MISSING]

    line = 'pass condition: "core" in imageLabels → "core" in ["stable"]'
    [audit] = await AuditEvent.filter(action="promotion.requested")
    assert audit.data["warnings"] == [line]

    await run_jobs()  # the approval emails, to both approvers
    assert len(mailbox.received) == 2
    for email in mailbox.received:
        assert "Policy warnings:" in email.text and line in email.text
        assert "Policy warnings" in email.html

    # Approved, it is promoted like any request.
    [decision] = await world.decide(world.tokens["approver"], [request_id])
    assert decision["outcome"] == "PROMOTING"


async def test_enforcement_is_part_of_the_policy_version(world: World) -> None:
    await world.policy("rollout", "prod", pass_condition=CONDITION)
    image = await world.image("1.4.2", labels=["stable"])
    assert (await promote(world, image))["outcome"] == "BLOCKED_BY_POLICY"
    data = await world.gql(
        """mutation { updatePromotionPolicy(name: "rollout", input: {enforcement: WARN}) {
             policy { version enforcement } errors { message } } }""",
        token=world.admin,
    )
    assert data["updatePromotionPolicy"]["policy"] == {"version": 2, "enforcement": "WARN"}
    assert (await PromotionPolicy.get(name="rollout")).enforcement == Enforcement.WARN
    result = await promote(world, image)
    assert result["outcome"] == "PROMOTING"
    assert result["request"]["warnings"][0]["expression"] == '"core" in imageLabels'
    assert (await PromotionRequest.get(id=request_row(result))).policy_version == 2
