"""Each policy version names exactly one content, also under concurrent updates (SPEC §3),
and `ifVersion` refuses an update made on a version that is gone (issue 11, item 4).

On Postgres the updates race for real (every request runs in its own transaction on its
own pooled connection); SQLite serialises them, and the answers must be the same.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from app.audit.models import AuditEvent
from tests.policies.helpers import ERRORS, POLICY, create_policy, row_counts
from tests.policies.helpers import UPDATE as PLAIN_UPDATE
from tests.support.graphql import GraphQLClient

UPDATE = f"""mutation($name: String!, $input: PromotionPolicyPatch!, $ifVersion: Int) {{
  updatePromotionPolicy(name: $name, input: $input, ifVersion: $ifVersion) {{
    policy {{ {POLICY} }} {ERRORS} }}
}}"""
CALLS = 20


async def update(
    gql: GraphQLClient, token: str, patch: dict[str, Any], if_version: int | None = None
) -> dict[str, Any]:
    """An update; without `if_version`, the document clients sent before ifVersion existed."""
    if if_version is None:
        data = await gql(PLAIN_UPDATE, {"name": "racy", "input": patch}, token=token)
    else:
        data = await gql(
            UPDATE, {"name": "racy", "input": patch, "ifVersion": if_version}, token=token
        )
    return data["updatePromotionPolicy"]


def content(i: int) -> dict[str, Any]:
    """What call `i` sends: two fields, so a mix of two calls' contents would show."""
    return {"description": f"change {i}", "approverCount": i % 7}


async def history() -> dict[int, list[dict[str, Any]]]:
    """The recorded versions of the policy: version → the contents recorded for it."""
    found: dict[int, list[dict[str, Any]]] = {}
    for event in await AuditEvent.filter(action="policy.updated").order_by("id"):
        found.setdefault(event.data["version"], []).append(event.data)
    return found


async def test_concurrent_updates_give_each_version_one_content(
    gql: GraphQLClient, admin: str
) -> None:
    await create_policy(gql, admin, "racy")
    answers = await asyncio.gather(*(update(gql, admin, content(i)) for i in range(CALLS)))
    assert all(a["errors"] == [] for a in answers), answers
    versions = [a["policy"]["version"] for a in answers]
    assert sorted(versions) == list(range(2, CALLS + 2)), versions
    by_version = {}
    for i, answer in enumerate(answers):
        policy = answer["policy"]
        # The answer shows the content this call sent, under the version it made.
        assert (policy["description"], policy["approverCount"]) == (
            content(i)["description"],
            content(i)["approverCount"],
        )
        by_version[policy["version"]] = content(i)
    recorded = await history()
    assert sorted(recorded) == sorted(by_version)
    for version, events in recorded.items():
        assert len(events) == 1, (version, events)
        assert (events[0]["description"], events[0]["approver_count"]) == (
            by_version[version]["description"],
            by_version[version]["approverCount"],
        )
    last = max(by_version)
    latest = (await gql('{ promotionPolicy(name: "racy") { version description } }', token=admin))[
        "promotionPolicy"
    ]
    assert latest == {"version": last, "description": by_version[last]["description"]}


async def test_one_of_concurrent_updates_with_the_same_if_version_wins(
    gql: GraphQLClient, admin: str
) -> None:
    await create_policy(gql, admin, "racy")
    answers = await asyncio.gather(
        *(update(gql, admin, content(i), if_version=1) for i in range(CALLS))
    )
    outcomes = Counter("ok" if not a["errors"] else a["errors"][0]["code"] for a in answers)
    assert outcomes == {"ok": 1, "CONFLICT": CALLS - 1}, outcomes
    [winner] = [i for i, a in enumerate(answers) if not a["errors"]]
    assert answers[winner]["policy"]["version"] == 2
    for answer in answers:
        if answer["errors"]:
            assert answer["policy"] is None
            assert answer["errors"][0]["field"] == "ifVersion"
    assert list(await history()) == [2]
    latest = (await gql('{ promotionPolicy(name: "racy") { version description } }', token=admin))[
        "promotionPolicy"
    ]
    assert latest == {"version": 2, "description": content(winner)["description"]}


async def test_a_stale_if_version_changes_nothing(gql: GraphQLClient, admin: str) -> None:
    await create_policy(gql, admin, "racy")
    assert (await update(gql, admin, {"description": "seen"}, if_version=1))["errors"] == []
    before = await row_counts()
    refused = await update(gql, admin, {"description": "blind"}, if_version=1)
    assert refused["policy"] is None
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("CONFLICT", "ifVersion")
    assert "version 2" in error["message"]
    assert await row_counts() == before  # not even an audit event
    current = await update(gql, admin, {"description": "informed"}, if_version=2)
    assert current["errors"] == []
    assert (current["policy"]["version"], current["policy"]["description"]) == (3, "informed")
