"""Chat messages (issue 17 item 4): the same events as Slack Block Kit and Teams Adaptive
Card messages, checked against each format's documented shape (slack-sdk's block models,
which carry Slack's limits, and the official Adaptive Card 1.5 JSON schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import adaptive_cards
from jsonschema.validators import Draft6Validator
from slack_sdk.models.blocks import Block

from app.ids import global_id
from app.notifications.content import request_link
from app.outbox.service import run_sweeps
from tests.promotions.world import CI, PROMOTE, World, request_row
from tests.support.deployer import Deployer
from tests.webhooks.conftest import PUBLIC_URL

CREATE = """mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  endpoint { format } errors { code field message } } }"""
CARD_SCHEMA = json.loads(
    (Path(adaptive_cards.__file__).parent / "schemas" / "schema-1.5.json").read_text()
)
# From a user: Slack must not read it as a mention or a link.
COMMENT = "hotfix <!channel> & <https://evil.example|click>"


async def _requested(world: World, *formats: tuple[str, str]) -> int:
    for name, (format, url) in zip(("slack-room", "teams-room"), formats, strict=False):
        data = await world.gql(
            CREATE,
            {
                "input": {
                    "name": name,
                    "url": url,
                    "format": format,
                    "eventTypes": ["dev.hoist.promotion.requested"],
                }
            },
            token=world.admin,
        )
        assert data["createWebhookEndpoint"]["errors"] == [], data
    await world.policy("lane", "prod", approver_count=1)
    variables = {
        "image": global_id("Image", await world.image()),
        "source": CI,
        "targets": ["prod"],
        "comment": COMMENT,
    }
    data = await world.gql(PROMOTE, variables, token=world.tokens["dev"])
    [result] = data["promoteImage"]["results"]
    await run_sweeps()
    return request_row(result)


def _only(receiver: Deployer) -> tuple[dict[str, str], dict[str, Any]]:
    [(headers, body)] = receiver.received
    return headers, json.loads(body)


async def test_slack_and_teams_get_the_approval_request_in_their_formats(
    world: World, loopback: None
) -> None:
    with Deployer() as slack_room, Deployer() as teams_room:
        request = await _requested(world, ("SLACK", slack_room.url), ("TEAMS", teams_room.url))
    link = request_link(PUBLIC_URL, request)

    headers, slack = _only(slack_room)
    assert headers["Content-Type"] == "application/json"
    assert slack["text"] == "Hoist: promotion requested (shop / prod)"
    blocks = [Block.parse(block) for block in slack["blocks"]]
    for block in blocks:
        assert block is not None
        block.validate_json()  # Slack's documented limits and required fields
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "actions", "context"]
    fields = {
        f["text"].split("\n")[0]: f["text"].split("\n", 1)[1] for f in slack["blocks"][1]["fields"]
    }
    assert fields["*Image*"] == "registry.example.com/shop:1.0"
    assert fields["*Target*"] == "prod"
    assert fields["*Approvals*"] == "0 of 1"
    assert fields["*Requested by*"].startswith("dev")
    assert fields["*Comment*"] == (
        "hotfix &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    )
    [button] = slack["blocks"][2]["elements"]
    assert (button["text"]["text"], button["url"]) == ("Review the request", link)

    headers, teams = _only(teams_room)
    assert headers["Content-Type"] == "application/json"
    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    errors = [e.message for e in Draft6Validator(CARD_SCHEMA).iter_errors(card)]
    assert errors == []
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Comment"] == COMMENT  # a FactSet value is plain text
    assert facts["Approvals"] == "0 of 1"
    [action] = card["actions"]
    assert (action["type"], action["url"]) == ("Action.OpenUrl", link)


def test_the_schema_check_refuses_a_broken_card() -> None:
    """The validation above can fail: a card with a misspelt element does not pass."""
    broken = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlok"}]}
    assert list(Draft6Validator(CARD_SCHEMA).iter_errors(broken))
