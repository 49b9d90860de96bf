"""Two `hoist serve` processes and a `hoist worker` on one Redis and one Postgres database:
a change made through a third connection (or by the worker) reaches a WebSocket subscriber
of one server and an SSE subscriber of the other, each exactly once, and nobody who may not
read its application."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.live.conftest import LIVE_SETTINGS, data_dir, other_catalog, other_image
from tests.support.http_api import Api
from tests.support.live_client import sse_subscription, subscribers, ws_subscription
from tests.support.live_server import running_server
from tests.support.processes import celery_worker, stop_group

REQUESTS = """subscription($a: String) { promotionRequestChanged(application: $a) {
  eventId action request { id status application { name } } } }"""
DEPLOYMENTS = """subscription { deploymentChanged(application: "shop", environment: "dev") {
  action deployment { id status environment { name } } } }"""


async def test_each_process_tells_its_subscribers_once_through_redis(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    settings = {**LIVE_SETTINGS, "HOIST_DATABASE_URL": pg_url, "HOIST_BROKER_URL": redis_url}
    with (
        running_server(data_dir(tmp_path, "a"), **settings) as a,
        running_server(data_dir(tmp_path, "b"), **settings) as b,
        celery_worker(data_dir(tmp_path, "worker"), pg_url, redis_url, **LIVE_SETTINGS) as worker,
    ):
        admin = Api(a.url, a.token)
        admin.catalog(approvals=1)
        other_catalog(admin)
        dev = admin.user(
            "dev@example.com", ("BUILD_DEPLOY", "shop", "*"), ("BUILD_DEPLOY", "other", "*")
        )
        approver = admin.user("ann@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
        outsider = admin.user("otto@example.com", ("VIEWER", "other", "*"))
        async with (
            ws_subscription(a.url, dev.token, REQUESTS, {"a": "shop"}) as on_a,
            sse_subscription(b.url, approver.token, REQUESTS) as on_b,
            ws_subscription(b.url, outsider.token, REQUESTS) as otto,
            sse_subscription(a.url, dev.token, DEPLOYMENTS) as deployments,
        ):
            await subscribers(a.url, 2)
            await subscribers(b.url, 2)
            # The third connection: a plain HTTP mutation (Api opens one per call).
            [promoted] = dev.promote(dev.image("3.0.0"), ["prod"])
            request_id = promoted["request"]["id"]
            first_a = (await on_a.next())["promotionRequestChanged"]
            first_b = (await on_b.next())["promotionRequestChanged"]
            assert first_a == first_b
            assert (first_a["action"], first_a["request"]["id"]) == (
                "promotion.requested",
                request_id,
            )

            approver(
                """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids) {
                results { outcome } } }""",
                {"ids": [request_id]},
            )
            # Once each: after the request, its approval and the state changes, the last
            # made by `hoist worker` (a third process, through Redis too), none twice.
            heard_a, heard_b = [first_a["eventId"]], [first_b["eventId"]]
            for subscriber, heard in ((on_a, heard_a), (on_b, heard_b)):
                while True:
                    change = (await subscriber.next())["promotionRequestChanged"]
                    assert change["request"]["id"] == request_id
                    heard.append(change["eventId"])
                    if change["action"] == "promotion.promoted":
                        break
            assert heard_a == heard_b
            assert len(set(heard_a)) == len(heard_a) >= 3

            # The outsider heard none of shop's events: the first is other's, made later.
            [theirs] = dev.promote(other_image(dev, "1.0"), ["dev"])
            event = (await otto.next())["promotionRequestChanged"]
            assert event["request"]["id"] == theirs["request"]["id"]
            assert event["request"]["application"] == {"name": "other"}

            # A deployment made through process b is heard on a.
            deployed = Api(b.url, dev.token)(
                """mutation($i: ID!) { deployImage(application: "shop", environment: "dev",
                imageId: $i) { deployment { id } errors { message } } }""",
                {"i": dev.image("3.0.1")},
            )["deployImage"]
            assert deployed["errors"] == [], deployed
            change = (await deployments.next())["deploymentChanged"]
            assert change["action"] == "deployment.created"
            assert change["deployment"]["id"] == deployed["deployment"]["id"]
            assert change["deployment"]["environment"] == {"name": "dev"}
        # Its part is done; a warm shutdown of Celery would only cost the test its seconds.
        stop_group(worker, signal.SIGKILL)
