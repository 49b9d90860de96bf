"""The SES provider against moto's SES in server mode: a real HTTP endpoint on loopback."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from app.ids import global_id
from app.notifications.models import NotificationState
from app.notifications.providers import ses_error
from tests.notifications.helpers import SENDER, configure, notifications, open_jobs, run_jobs
from tests.promotions.world import World, drain
from tests.support.services import free_port

REGION = "eu-west-1"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def ses(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto emptied, the sender verified, and Hoist sending through it."""
    with urllib.request.urlopen(
        urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    ):
        pass
    client = boto3.client("sesv2", region_name=REGION, endpoint_url=moto_url, **KEYS)
    client.create_email_identity(EmailIdentity="hoist@example.com")
    client.close()
    configure(
        monkeypatch,
        email_backend="ses",
        email_sender=SENDER,
        ses_region=REGION,
        ses_endpoint_url=moto_url,
        ses_access_key_id="testing",
        ses_secret_access_key=SecretStr("testing"),
    )
    return moto_url


def sent(moto_url: str) -> list[dict[str, Any]]:
    """What moto recorded as sent by SES."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json") as response:
        return list(json.load(response)["ses"]["Message"])


async def request_approval(world: World, comment: str = "hotfix") -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()
    await world.gql(
        """mutation($i: ID!, $c: String) { promoteImage(imageId: $i,
        source: {type: CI}, targetEnvironments: ["prod"], comment: $c) { results { outcome } } }""",
        {"i": global_id("Image", image), "c": comment},
        token=world.tokens["dev"],
    )


async def test_ses_sends_one_email_per_approver(world: World, ses: str) -> None:
    await request_approval(world, comment="<script>x</script>")
    await drain()
    messages = sorted(sent(ses), key=lambda m: m["destinations"]["ToAddresses"])
    assert [m["destinations"]["ToAddresses"] for m in messages] == [
        ["approver2@example.com"],
        ["approver@example.com"],
    ]
    for message in messages:
        assert message["source"] == SENDER
        assert message["subject"] == (
            "Image promotion approval requested | Application: shop | Target environment: prod"
        )
        # moto keeps the HTML part when there is one.
        assert "&lt;script&gt;x&lt;/script&gt;" in message["body"]
    rows = await notifications()
    assert [(r.state, r.attempts) for r in rows] == [(NotificationState.SENT, 1)] * 2
    assert await open_jobs() == 0


async def test_a_rejected_message_fails_at_once(
    world: World, ses: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, email_sender="Nobody <nobody@unverified.example.org>")
    await request_approval(world)
    await drain()
    rows = await notifications()
    assert [(r.state, r.attempts) for r in rows] == [(NotificationState.FAILED, 1)] * 2
    assert all("MessageRejected" in (r.error or "") for r in rows)
    assert sent(ses) == []


async def test_ses_unreachable_is_retried_later(
    world: World, ses: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ses_endpoint_url=f"http://127.0.0.1:{free_port()}")
    await request_approval(world)
    await run_jobs()
    rows = await notifications()
    # Nothing reached SES: no attempt used, and the second email was not tried in vain.
    assert [(r.state, r.attempts, r.unreachable_tries) for r in rows] == [
        (NotificationState.PENDING, 0, 1)
    ] * 2
    assert all("SES" in (r.error or "") for r in rows)
    assert await open_jobs() == 1


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("Throttling", 400, False),
        ("TooManyRequestsException", 429, False),
        ("InternalFailure", 500, False),
        ("MessageRejected", 400, True),
        ("BadRequestException", 400, True),
    ],
)
def test_ses_answers_are_transient_or_permanent(code: str, status: int, permanent: bool) -> None:
    exc = ClientError(
        {"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "SendEmail",
    )
    assert ses_error(exc).permanent is permanent
