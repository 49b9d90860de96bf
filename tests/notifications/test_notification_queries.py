"""The `notifications` query: super-admins see every email and its state; others are refused."""

from __future__ import annotations

import pytest

from app.ids import global_id
from tests.notifications.helpers import notifications
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import World, drain
from tests.support.queries import assert_flat

NOTIFICATIONS = """query($state: NotificationState, $first: Int, $after: String) {
  notifications(state: $state, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id event recipient subject state attempts error createdAt sentAt
                   nextAttemptAt request { id status requestedBy { email } } } } } }"""


async def emails_in_every_state(world: World, mailbox: Mailbox) -> int:
    """Two requests: approver@ refuses mail (FAILED), approver2@ takes it (SENT); then a
    third request's emails are written but not sent (PENDING)."""
    mailbox.refuse("approver@example.com", "550 5.1.1 No such mailbox")
    await world.policy("careful", "prod", "staging", approver_count=1)
    image = await world.image()
    await world.promote(world.tokens["dev"], image, ["prod"])
    await drain()
    await world.promote(world.tokens["dev"], image, ["staging"])
    return len(await notifications())


async def test_super_admins_list_emails_newest_first_by_state(
    world: World, mailbox: Mailbox
) -> None:
    assert await emails_in_every_state(world, mailbox) == 3  # staging: approver2 only
    data = (await world.gql(NOTIFICATIONS, {}, token=world.admin))["notifications"]
    assert data["totalCount"] == 3
    nodes = [e["node"] for e in data["edges"]]
    newest_first = [global_id("Notification", r.id) for r in reversed(await notifications())]
    assert [n["id"] for n in nodes] == newest_first
    assert nodes[0]["state"] == "PENDING" and nodes[0]["nextAttemptAt"] is not None
    assert nodes[0]["request"]["requestedBy"]["email"] == "dev@example.com"

    failed = (await world.gql(NOTIFICATIONS, {"state": "FAILED"}, token=world.admin))[
        "notifications"
    ]
    [node] = [e["node"] for e in failed["edges"]]
    assert (node["recipient"], node["event"], node["attempts"]) == (
        "approver@example.com",
        "APPROVAL_REQUESTED",
        1,
    )
    assert node["error"] == "550 5.1.1 No such mailbox" and node["sentAt"] is None
    assert node["subject"].startswith("Image promotion approval requested | Application: shop")

    sent = await world.gql(NOTIFICATIONS, {"state": "SENT"}, token=world.admin)
    [node] = [e["node"] for e in sent["notifications"]["edges"]]
    assert node["recipient"] == "approver2@example.com" and node["sentAt"] is not None
    assert node["nextAttemptAt"] is None and node["request"]["status"] == "AWAITING_APPROVAL"


async def test_pages_follow_the_cursor(world: World, mailbox: Mailbox) -> None:
    await emails_in_every_state(world, mailbox)
    first = (await world.gql(NOTIFICATIONS, {"first": 2}, token=world.admin))["notifications"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"] is True
    rest = (
        await world.gql(
            NOTIFICATIONS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=world.admin
        )
    )["notifications"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("who", ["approver", "viewer", "dev"])
async def test_others_are_forbidden(world: World, who: str) -> None:
    assert await world.gql.error_code(NOTIFICATIONS, {}, token=world.tokens[who]) == "FORBIDDEN"


async def test_no_token_is_unauthenticated(world: World) -> None:
    assert await world.gql.error_code(NOTIFICATIONS, {}) == "UNAUTHENTICATED"


async def test_the_query_count_does_not_grow_with_the_page(world: World, mailbox: Mailbox) -> None:
    await emails_in_every_state(world, mailbox)

    async def read(first: int) -> int:
        data = await world.gql(NOTIFICATIONS, {"first": first}, token=world.admin)
        return len(data["notifications"]["edges"])

    await assert_flat(read, sizes=(1, 3))
