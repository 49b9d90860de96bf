"""Event webhooks (issue 17 item 3): signed CloudEvents to a real HTTP receiver, at least
once, retried with backoff, switched off after failures in a row, redeliverable, and
never to an internal address unless allowed. The sweeps are the ones the workers run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import from_http

from app.audit.models import AuditEvent
from app.ids import global_id
from app.notifications.models import Notification, NotificationEvent
from app.outbox.service import run_sweeps
from app.webhooks import fanout, kinds
from app.webhooks.models import DeliveryState, WebhookDelivery
from tests.audit.test_audit_actions import actions_in_code
from tests.notifications.helpers import Clock, configure
from tests.promotions.world import World, drain, request_row
from tests.support.deployer import Deployer
from tests.support.waiting import eventually
from tests.webhooks.conftest import PUBLIC_URL

README = Path(__file__).resolve().parents[2] / "README.md"

CREATE = """mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  endpoint { id name active } secret errors { code field message } } }"""
UPDATE = """mutation($name: String!, $input: WebhookEndpointPatch!) {
  updateWebhookEndpoint(name: $name, input: $input) {
    endpoint { active consecutiveFailures disabledReason } secret errors { code field } } }"""
DELIVERIES = """query($state: WebhookDeliveryState) { webhookDeliveries(state: $state) {
  edges { node { id eventId eventType state attempts lastStatus lastResponse lastError
    nextAttemptAt deliveredAt } } } }"""
REDELIVER = """mutation($ids: [ID!]!) { redeliverWebhooks(ids: $ids) {
  deliveries { state attempts } errors { code field } } }"""


async def _endpoint(world: World, url: str, **fields: Any) -> str:
    data = await world.gql(
        CREATE, {"input": {"name": "ci-bot", "url": url, **fields}}, token=world.admin
    )
    payload = data["createWebhookEndpoint"]
    assert payload["errors"] == [], payload
    return str(payload["secret"])


async def _deliveries(world: World, state: str | None = None) -> list[dict[str, Any]]:
    data = await world.gql(DELIVERIES, {"state": state}, token=world.admin)
    return [edge["node"] for edge in data["webhookDeliveries"]["edges"]]


async def _promote_to_prod(world: World) -> int:
    await world.policy("lane", "prod")
    [result] = await world.promote(world.tokens["dev"], await world.image(), ["prod"])
    await drain()
    assert await world.request_status(request_row(result)) == "PROMOTED"
    return request_row(result)


def _readme_block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)
    [block] = [b for b in blocks if containing in b]
    return block


def _readme_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The README's Python recipe, run as written."""
    namespace: dict[str, Any] = {}
    exec(_readme_block("python", "def verify"), namespace)
    return bool(namespace["verify"](secret.encode(), headers, body))


def _shell_verify(secret: str, headers: dict[str, str], body: bytes, folder: Path) -> bool:
    """The README's shell recipe, run by bash with openssl."""
    (folder / "body.json").write_bytes(body)
    env = {
        "SECRET": secret,
        "TIMESTAMP": headers["X-Hoist-Timestamp"],
        "SIGNATURE": headers["X-Hoist-Signature"],
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["bash", "-c", _readme_block("sh", "openssl dgst -sha256 -hmac")],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip() == "signature valid"


async def test_events_go_out_once_as_signed_cloudevents(
    world: World, loopback: None, tmp_path: Path
) -> None:
    with Deployer() as receiver:
        secret = await _endpoint(
            world,
            receiver.url,
            eventTypes=["dev.hoist.promotion.requested", "dev.hoist.promotion.promoted"],
            applications=["shop"],
        )
        request = await _promote_to_prod(world)
        # Two workers' sweeps at once, then another: every event goes out once.
        await asyncio.gather(run_sweeps(), run_sweeps())
        await run_sweeps()

    events = [from_http(headers, body) for headers, body in receiver.received]
    assert [e["type"] for e in events] == [
        "dev.hoist.promotion.requested",
        "dev.hoist.promotion.promoted",
    ]
    request_id = global_id("PromotionRequest", request)
    for event, (headers, body) in zip(events, receiver.received, strict=True):
        assert event["source"] == PUBLIC_URL
        assert event["subject"] == request_id
        assert event.data["requestId"] == request_id
        assert event.data["application"] == "shop" and event.data["environment"] == "prod"
        assert headers["X-Hoist-Delivery"] == event["id"]
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert _readme_verify(secret, headers, body)
        assert _shell_verify(secret, headers, body, tmp_path)
        assert not _shell_verify("not-the-secret", headers, body, tmp_path)
    assert events[0].data["actor"] == "dev@example.com"
    assert events[1].data["previous"] == "PROMOTING"
    assert len({e["id"] for e in events}) == 2
    assert [d["state"] for d in await _deliveries(world)] == ["DELIVERED", "DELIVERED"]


async def test_a_failing_endpoint_is_retried_with_backoff_until_it_answers(
    world: World, loopback: None, clock: Clock
) -> None:
    with Deployer(answers=[500, 503], body=b"try later") as receiver:
        await _endpoint(world, receiver.url, eventTypes=["dev.hoist.promotion.promoted"])
        await _promote_to_prod(world)
        await run_sweeps()
        [failed] = await _deliveries(world)
        assert (failed["state"], failed["attempts"], failed["lastStatus"]) == ("PENDING", 1, 500)
        assert failed["lastResponse"] == "try later"
        assert failed["lastError"] == "HTTP 500 Internal Server Error"
        await run_sweeps()  # not due yet: no second try
        assert len(receiver.received) == 1
        clock.advance(10 + 1)  # HOIST_WEBHOOK_RETRY_BASE_SECONDS
        await run_sweeps()
        assert len(receiver.received) == 2
        clock.advance(20 + 1)  # doubled
        await run_sweeps()

    [delivered] = await _deliveries(world)
    assert (delivered["state"], delivered["attempts"], delivered["lastStatus"]) == (
        "DELIVERED",
        3,
        200,
    )
    assert len({headers["X-Hoist-Delivery"] for headers, _ in receiver.received}) == 1


async def test_an_endpoint_failing_in_a_row_is_switched_off_and_on_again(
    world: World, loopback: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, webhook_disable_after=2)
    with Deployer(answers=[500, 500]) as receiver:
        await _endpoint(world, receiver.url, eventTypes=["dev.hoist.promotion.promoted"])
        await _promote_to_prod(world)
        await run_sweeps()
        clock.advance(11)
        await run_sweeps()
        data = await world.gql(
            "{ webhookEndpoints { edges { node { active consecutiveFailures disabledReason } } } }",
            token=world.admin,
        )
        [endpoint] = [e["node"] for e in data["webhookEndpoints"]["edges"]]
        assert endpoint == {
            "active": False,
            "consecutiveFailures": 2,
            "disabledReason": "switched off after 2 failed tries in a row",
        }
        assert await AuditEvent.filter(action="webhook.disabled").count() == 1
        [notice] = await Notification.filter(event=NotificationEvent.WEBHOOK_DISABLED)
        assert notice.recipient == "admin@example.com"  # every super-admin: there is one
        assert "ci-bot" in notice.subject and "HTTP 500" in notice.text_body
        assert "updateWebhookEndpoint" in notice.text_body
        clock.advance(3600)
        await run_sweeps()  # switched off: its delivery waits
        assert len(receiver.received) == 2

        switched_on = await world.gql(
            UPDATE, {"name": "ci-bot", "input": {"active": True}}, token=world.admin
        )
        assert switched_on["updateWebhookEndpoint"]["endpoint"]["consecutiveFailures"] == 0
        await run_sweeps()
    assert len(receiver.received) == 3
    [delivery] = await _deliveries(world)
    assert delivery["state"] == "DELIVERED"


async def test_a_failed_delivery_is_redelivered_by_hand(
    world: World, loopback: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, webhook_max_attempts=1)
    with Deployer(answers=[410]) as receiver:
        await _endpoint(world, receiver.url, eventTypes=["dev.hoist.promotion.promoted"])
        await _promote_to_prod(world)
        await run_sweeps()
        [failed] = await _deliveries(world, "FAILED")
        assert failed["nextAttemptAt"] is None
        redone = await world.gql(REDELIVER, {"ids": [failed["id"]]}, token=world.admin)
        assert redone["redeliverWebhooks"]["deliveries"] == [{"state": "PENDING", "attempts": 0}]
        await run_sweeps()
    [first, second] = [headers["X-Hoist-Delivery"] for headers, _ in receiver.received]
    assert first == second == failed["eventId"]
    assert [d["state"] for d in await _deliveries(world)] == ["DELIVERED"]
    refused = await world.gql(REDELIVER, {"ids": [failed["id"]]}, token=world.tokens["dev"])
    assert refused["redeliverWebhooks"]["errors"] == [{"code": "FORBIDDEN", "field": None}]
    too_many = await world.gql(REDELIVER, {"ids": [failed["id"]] * 101}, token=world.admin)
    assert too_many["redeliverWebhooks"]["errors"] == [{"code": "VALIDATION", "field": "ids"}]
    assert [d["attempts"] for d in await _deliveries(world)] == [1]  # nothing was reset


async def test_a_try_a_stopped_worker_left_unfinished_is_tried_again(
    world: World, loopback: None, clock: Clock
) -> None:
    with Deployer(hold_first=True) as receiver:
        await _endpoint(world, receiver.url, eventTypes=["dev.hoist.promotion.promoted"])
        await _promote_to_prod(world)
        # A worker claims the delivery, POSTs, and stops while the receiver holds the POST.
        worker = asyncio.create_task(run_sweeps())

        async def posted() -> bool:  # async, so the worker's task runs while it waits
            return receiver.first_arrived.is_set()

        await eventually(posted, what="the first POST")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        receiver.release()
        await run_sweeps()
        assert len(receiver.received) == 1  # still the stopped worker's: not tried again yet
        clock.advance(121)  # HOIST_WEBHOOK_CLAIM_TIMEOUT_SECONDS
        await run_sweeps()
    [first, second] = [headers["X-Hoist-Delivery"] for headers, _ in receiver.received]
    assert first == second  # the receiver deduplicates by it
    [delivery] = await WebhookDelivery.all()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)


async def test_internal_addresses_unknown_names_and_non_admins_are_refused(world: World) -> None:
    async def errors(token: str, **fields: Any) -> list[dict[str, Any]]:
        data = await world.gql(CREATE, {"input": {"name": "probe", **fields}}, token=token)
        return list(data["createWebhookEndpoint"]["errors"])

    for url in (
        "http://127.0.0.1:9/",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://10.1.2.3/",
        "http://localhost:8000/",
    ):
        [error] = await errors(world.admin, url=url)
        assert (error["code"], error["field"]) == ("VALIDATION", "url"), url
        assert "HOIST_WEBHOOK_ALLOW_PRIVATE" in error["message"]
    [error] = await errors(world.admin, url="ftp://example.com/")
    assert error["field"] == "url" and "http://" in error["message"]
    found = await errors(
        world.admin,
        url="http://127.0.0.1:9/",
        eventTypes=["dev.hoist.promotion.promoted", "dev.hoist.promotion.promotd"],
        applications=["nope"],
    )
    assert {(e["code"], e["field"]) for e in found} == {
        ("VALIDATION", "eventTypes[1]"),
        ("NOT_FOUND", "applications[0]"),
        ("VALIDATION", "url"),
    }
    [error] = await errors(world.tokens["dev"], url="https://example.com/")
    assert error["code"] == "FORBIDDEN"
    # A name longer than any endpoint's is a lookup that finds nothing (found by fuzzing).
    deleted = await world.gql(
        "mutation($n: String!) { deleteWebhookEndpoint(name: $n) { errors { code field } } }",
        {"n": "x" * 300},
        token=world.admin,
    )
    assert deleted["deleteWebhookEndpoint"]["errors"] == [{"code": "NOT_FOUND", "field": "name"}]
    assert await WebhookDelivery.all().count() == 0


def test_every_request_and_deployment_action_is_an_event_type() -> None:
    recorded = {a for a in actions_in_code() if a.startswith(kinds.PUBLISHED_DOMAINS)}
    assert recorded == set(kinds.ACTIONS)


def test_every_row_id_in_an_events_data_becomes_a_global_id() -> None:
    """app/audit/rows.py is the one table of such keys: a deployment's event names its
    promotion with the API's id, as the live events let clients read it."""
    event = AuditEvent(
        id=9,
        action="deployment.created",
        application="shop",
        environment="prod",
        data={"deployment_id": 5, "image_id": 3, "promotion_request_id": 7, "attempt": 2},
        actor=None,  # Hoist itself
    )
    event.at = datetime(2026, 12, 1, tzinfo=UTC)
    body = json.loads(fanout.render(event, "dev.hoist.deployment.created"))
    assert body["subject"] == global_id("Deployment", 5)
    assert {k: body["data"][k] for k in ("deploymentId", "imageId", "promotionRequestId")} == {
        "deploymentId": global_id("Deployment", 5),
        "imageId": global_id("Image", 3),
        "promotionRequestId": global_id("PromotionRequest", 7),
    }
    assert body["data"]["attempt"] == 2  # not a row id: as it is
