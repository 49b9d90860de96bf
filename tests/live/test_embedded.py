"""Live subscriptions on the embedded default (one process, no Redis): in-process fan-out,
visibility, revoked tokens, heartbeats and limits, over WebSocket and SSE."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets

from tests.live.conftest import other_image
from tests.support.http_api import Api
from tests.support.live_client import Closed, sse_subscription, subscribers, ws_subscription
from tests.support.live_server import LiveServer

REQUESTS = """subscription($a: String, $t: String) {
  promotionRequestChanged(application: $a, targetEnvironment: $t) {
    eventId action request { id status application { name } targetEnvironment { name } } } }"""
INBOX = """subscription { pendingApprovalsChanged { action added request { id status } } }"""


def _error_codes(closed: Closed) -> list[str]:
    reason: Any = closed.reason
    assert isinstance(reason, list), reason
    return [error["extensions"]["code"] for error in reason]


async def _idle(server: LiveServer) -> None:
    """The tests share a server: each starts when the one before has let go of its
    subscriptions."""
    await subscribers(server.url, 0)


async def test_in_process_events_reach_ws_and_sse_as_each_caller_may_see_them(
    embedded: LiveServer,
) -> None:
    await _idle(embedded)
    admin = Api(embedded.url, embedded.token)
    dev = admin.user(
        "dev@example.com", ("BUILD_DEPLOY", "shop", "*"), ("BUILD_DEPLOY", "other", "*")
    )
    approver = admin.user("ann@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
    outsider = admin.user("otto@example.com", ("VIEWER", "other", "*"))
    async with (
        sse_subscription(embedded.url, dev.token, REQUESTS, {"a": "shop", "t": "prod"}) as shop,
        ws_subscription(embedded.url, approver.token, INBOX) as inbox,
        sse_subscription(embedded.url, outsider.token, REQUESTS) as otto,
    ):
        await subscribers(embedded.url, 3)
        [promoted] = dev.promote(dev.image("2.0.0"), ["prod"])
        request_id = promoted["request"]["id"]

        event = (await shop.next())["promotionRequestChanged"]
        assert event["action"] == "promotion.requested"
        assert event["request"] == {
            "id": request_id,
            "status": "AWAITING_APPROVAL",
            "application": {"name": "shop"},
            "targetEnvironment": {"name": "prod"},
        }
        # Told by the request's event, or (should the 0.5 s re-read of roles fall between
        # the commit and the event) by the re-read: once either way.
        entered = (await inbox.next())["pendingApprovalsChanged"]
        assert entered.pop("action") in ("promotion.requested", "inbox.resynced")
        assert entered == {
            "added": True,
            "request": {"id": request_id, "status": "AWAITING_APPROVAL"},
        }

        approver(
            """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids) {
            results { outcome } } }""",
            {"ids": [request_id]},
        )
        event = (await shop.next())["promotionRequestChanged"]
        assert (event["action"], event["request"]["id"]) == ("promotion.approved", request_id)
        left = (await inbox.next())["pendingApprovalsChanged"]
        assert left["action"] in ("promotion.approved", "inbox.resynced")
        assert (left["added"], left["request"]["id"]) == (False, request_id)

        # The outsider saw none of shop's events: the first one they hear is other's.
        [theirs] = dev.promote(other_image(dev, "1.0"), ["dev"])
        event = (await otto.next())["promotionRequestChanged"]
        assert event["request"]["application"] == {"name": "other"}
        assert event["request"]["id"] == theirs["request"]["id"]


async def test_a_revoked_tokens_subscriptions_are_closed_and_idle_ones_get_heartbeats(
    embedded: LiveServer,
) -> None:
    await _idle(embedded)
    admin = Api(embedded.url, embedded.token)
    admin.user("rita@example.com", ("VIEWER", "shop", "*"))
    created = admin(
        """mutation { createApiToken(name: "live", email: "rita@example.com") {
        token apiToken { id } } }"""
    )["createApiToken"]
    token = created["token"]
    async with (
        ws_subscription(embedded.url, token, REQUESTS) as ws,
        sse_subscription(embedded.url, token, REQUESTS) as sse,
    ):
        await subscribers(embedded.url, 2)
        # Idle, both connections carry heartbeats (a ping message; an SSE comment).
        with pytest.raises(TimeoutError):
            await ws.next(timeout=1.5)
        assert ws.pings >= 1
        with pytest.raises(TimeoutError):
            await sse.event(timeout=1.5)
        assert sse.comments >= 1

        revoked = admin(
            """mutation($id: ID!) { revokeApiToken(id: $id) { deleted } }""",
            {"id": created["apiToken"]["id"]},
        )
        assert revoked["revokeApiToken"]["deleted"] is True
        with pytest.raises(Closed) as ws_end:
            await ws.next()
        assert _error_codes(ws_end.value) == ["UNAUTHENTICATED"]
        with pytest.raises(Closed, match="complete"):
            await ws.next()
        # A new operation on that connection closes it: nothing more runs on the token.
        again = {"query": "{ me { email } }"}
        await ws.socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": again}))
        with pytest.raises(Closed, match="4403"):
            await ws.next()
        with pytest.raises(Closed) as sse_end:
            await sse.next()
        assert _error_codes(sse_end.value) == ["UNAUTHENTICATED"]
        assert (await sse.event())[0] == "complete"


async def test_without_a_valid_token_there_is_no_subscription(embedded: LiveServer) -> None:
    await _idle(embedded)
    # graphql-transport-ws: the connection is refused at `connection_init`, 4403 Forbidden.
    with pytest.raises(websockets.ConnectionClosed) as refused:
        async with ws_subscription(embedded.url, "hoist_not-a-token", REQUESTS):
            pass
    assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403
    async with sse_subscription(embedded.url, None, REQUESTS) as sse:
        with pytest.raises(Closed) as end:
            await sse.next()
    assert _error_codes(end.value) == ["UNAUTHENTICATED"]


async def test_subscriptions_are_bounded(embedded: LiveServer) -> None:
    await _idle(embedded)
    admin = embedded.token
    # The document limits hold for subscriptions too (depth, here), without a traceback.
    deep = (
        "subscription { promotionRequestChanged { request { image { workflow { "
        + ("application { workflows { edges { node { " * 4)
        + "name"
        + " } } } }" * 4
        + " } } } } }"
    )
    async with sse_subscription(embedded.url, admin, deep) as sse:
        with pytest.raises(Closed) as refused:
            await sse.next()
    assert "depth" in str(refused.value).lower()
    assert "Traceback" not in str(refused.value)

    # HOIST_LIVE_MAX_SUBSCRIPTIONS=4 in this process: the fifth is refused.
    async with (
        ws_subscription(embedded.url, admin, REQUESTS),
        ws_subscription(embedded.url, admin, REQUESTS),
        sse_subscription(embedded.url, admin, REQUESTS),
        sse_subscription(embedded.url, admin, REQUESTS),
    ):
        await subscribers(embedded.url, 4)
        async with ws_subscription(embedded.url, admin, REQUESTS) as fifth:
            with pytest.raises(Closed) as full:
                await fifth.next()
        assert _error_codes(full.value) == ["TOO_MANY_SUBSCRIPTIONS"]


async def test_a_deployments_status_and_stage_results_are_told(embedded: LiveServer) -> None:
    await _idle(embedded)
    admin = Api(embedded.url, embedded.token)
    dev = admin.user("dora@example.com", ("BUILD_DEPLOY", "shop", "*"))
    query = """subscription { deploymentChanged(application: "shop", environment: "dev") {
      action deployment { id status environment { name } } } }"""
    async with ws_subscription(embedded.url, dev.token, query) as on_dev:
        await subscribers(embedded.url, 1)
        image = dev.image("5.0.0")
        deployed = dev(
            """mutation($i: ID!) { deployImage(application: "shop", environment: "dev",
            imageId: $i) { deployment { id } errors { message } } }""",
            {"i": image},
        )["deployImage"]
        assert deployed["errors"] == [], deployed
        deployment = deployed["deployment"]["id"]
        # The embedded noop executor finishes it at once: made, then SUCCEEDED.
        made = (await on_dev.next())["deploymentChanged"]
        assert (made["action"], made["deployment"]["id"]) == ("deployment.created", deployment)
        done = (await on_dev.next())["deploymentChanged"]
        assert done["action"] == "deployment.succeeded"
        assert done["deployment"] == {
            "id": deployment,
            "status": "SUCCEEDED",
            "environment": {"name": "dev"},
        }
        # A stage result of the image in dev is told with its newest deployment there.
        stage = dev(
            """mutation($i: ID!) { recordStageResult(input: {imageId: $i, environment: "dev",
            stage: DEPLOY, status: SUCCEEDED}) { errors { message } } }""",
            {"i": image},
        )["recordStageResult"]
        assert stage["errors"] == [], stage
        reported = (await on_dev.next())["deploymentChanged"]
        assert (reported["action"], reported["deployment"]["id"]) == ("stage.reported", deployment)
        # A newer image replaces it; rolling back brings 5.0.0 again and is told as such,
        # naming the new deployment (the one whose rollbackOf is the replaced one).
        newer = dev(
            """mutation($i: ID!) { deployImage(application: "shop", environment: "dev",
            imageId: $i) { deployment { id } errors { message } } }""",
            {"i": dev.image("5.0.1")},
        )["deployImage"]
        assert newer["errors"] == [], newer
        told = [(await on_dev.next())["deploymentChanged"]["action"] for _ in range(2)]
        assert told == ["deployment.created", "deployment.succeeded"]
        rolled = dev(
            """mutation($i: ID!) { rollbackDeployment(application: "shop", environment: "dev",
            toImage: $i) { deployment { id } errors { message } } }""",
            {"i": image},
        )["rollbackDeployment"]
        assert rolled["errors"] == [], rolled
        actions = {}
        while "deployment.rolled_back" not in actions or "deployment.succeeded" not in actions:
            change = (await on_dev.next())["deploymentChanged"]
            actions[change["action"]] = change["deployment"]["id"]
        assert actions["deployment.rolled_back"] == rolled["deployment"]["id"]
        assert actions["deployment.succeeded"] == rolled["deployment"]["id"]


async def test_a_role_granted_brings_its_requests_into_the_inbox(embedded: LiveServer) -> None:
    await _idle(embedded)
    admin = Api(embedded.url, embedded.token)
    dev = admin.user("dave@example.com", ("BUILD_DEPLOY", "shop", "*"))
    newcomer = admin.user("nina@example.com", ("VIEWER", "shop", "*"))
    [waiting] = dev.promote(dev.image("6.0.0"), ["prod"])
    async with ws_subscription(embedded.url, newcomer.token, INBOX) as inbox:
        await subscribers(embedded.url, 1)
        granted = admin(
            """mutation { grantRole(email: "nina@example.com", role: ARTIFACT_PROMOTER,
            application: "shop", environment: "prod") { errors { message } } }"""
        )
        assert granted["grantRole"]["errors"] == []
        # No request changed: the re-read roles (every HOIST_LIVE_RECHECK_SECONDS) tell it.
        assert (await inbox.next())["pendingApprovalsChanged"] == {
            "action": "inbox.resynced",
            "added": True,
            "request": {"id": waiting["request"]["id"], "status": "AWAITING_APPROVAL"},
        }
