"""Events as chat messages: Slack incoming webhooks (Block Kit) and Microsoft Teams
incoming webhooks (an Adaptive Card), built with each format's own library.

A message about a promotion request tells what its approval email tells (image, source,
target, requester, comment, approvals so far; notifications.service.request_facts is the
one home of that) and its button opens the request's dashboard page. Not the email's
signed Approve/Reject pages: those links are one approver's credential, and a channel
is read by everyone in it, so whoever clicks signs in as themselves instead. Other
events (deployments, images, stages) tell their application, environment and details.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from adaptive_cards.card import ActionOpenUrl, AdaptiveCard, Fact, FactSet, TextBlock
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from app.notifications.content import RequestFacts

# Slack's documented limits (slack-sdk checks them too, and refuses what is over).
_HEADER = 150
_FIELD = 2000
_FIELDS = 10
_CARD_VERSION: Final = "1.5"


@dataclass(frozen=True)
class Message:
    """What one chat message says, whatever the chat."""

    title: str
    facts: list[tuple[str, str]]
    link: str | None
    link_label: str


def message(type_: str, data: dict[str, object], request: RequestFacts | None) -> Message:
    """The message of one event (`data`: the CloudEvent's data) and, for a promotion
    request's event, what is known of the request now."""
    action = str(data["action"])
    what = action.replace(".", " ").replace("_", " ")
    where = " / ".join(str(data[k]) for k in ("application", "environment") if data.get(k))
    title = f"Hoist: {what}" + (f" ({where})" if where else "")
    if request is None:
        shown = {k: v for k, v in data.items() if k not in ("action", "application", "environment")}
        facts = [(key, _text(value)) for key, value in shown.items() if value is not None]
        return Message(title, facts, None, "")
    facts = [
        ("Image", request.image),
        ("Source", request.source),
        ("Target", request.environment),
        ("Requested by", request.requester),
        ("Comment", request.comment or "—"),
        (
            "Approvals",
            f"{len(request.approvers)} of {request.required_approvals}"
            + (f": {', '.join(request.approvers)}" if request.approvers else ""),
        ),
    ]
    if request.rejection_reason:
        facts.append(("Rejected", f"{request.rejected_by}: {request.rejection_reason}"))
    label = "Review the request" if action == "promotion.requested" else "Open the request"
    return Message(title, facts, request.link, label)


def slack(message: Message) -> str:
    """A Slack incoming webhook's body: `text` (notifications, old clients) and blocks."""
    blocks: list[Block] = [HeaderBlock(text=_cut(message.title, _HEADER))]
    fields = [
        MarkdownTextObject(text=_cut(f"*{label}*\n{_slack_escape(value)}", _FIELD))
        for label, value in message.facts[:_FIELDS]
    ]
    if fields:
        blocks.append(SectionBlock(fields=fields))
    if message.link:
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(text=message.link_label, url=message.link, style="primary")]
            )
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Sent by Hoist")]))
    return json.dumps({"text": message.title, "blocks": [b.to_dict() for b in blocks]})


def teams(message: Message) -> str:
    """A Teams incoming webhook's body: a message carrying one Adaptive Card."""
    builder = AdaptiveCard.new().version(_CARD_VERSION)
    builder.add_items(
        [
            TextBlock(text=message.title, weight="bolder", size="medium", wrap=True),
            FactSet(facts=[Fact(title=label, value=value) for label, value in message.facts]),
        ]
    )
    if message.link:
        builder.add_action(ActionOpenUrl(title=message.link_label, url=message.link))
    card = json.loads(builder.create().to_json())
    return json.dumps(
        {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters (links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
