"""Approving from the email while the pair's promotion window is closed: the approval
counts, the request is QUEUED, the page says so, and the link is used."""

from __future__ import annotations

import re

from app.promotions.models import PromotionDecision
from tests.notifications.helpers import PUBLIC_URL, Clock
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import World, drain, request_row
from tests.support.graphql import GraphQLClient
from tests.windows.conftest import freeze

LINK = re.compile(re.escape(PUBLIC_URL) + r"(/email/approve/[A-Za-z0-9_.\-]+)")


async def test_an_approval_from_the_email_while_closed_queues_the_request(
    world: World, gql: GraphQLClient, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("gate", "prod", approver_count=1)
    await freeze(world, clock, hours=4)
    [result] = await world.promote(world.tokens["dev"], await world.image(), ["prod"])
    request_id = request_row(result)
    await drain()
    [email] = mailbox.to("approver@example.com")
    [path] = LINK.findall(email.text)

    done = await gql.http.post(path, data={"comment": "ok"})
    assert done.status_code == 200, done.text
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", done.text))
    assert "You approved the request" in words
    assert "queued and promoted once the window opens" in words
    assert await world.request_status(request_id) == "QUEUED"
    assert await PromotionDecision.filter(request_id=request_id).count() == 1
    again = await gql.http.post(path, data={})
    assert again.status_code == 410  # the link was used, not given back
