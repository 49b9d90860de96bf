"""A server that loses Redis says so instead of going quiet: its subscriptions end with
LIVE_FEED_LOST and it takes no new ones until Redis is back, its first publish after Redis
came back goes out (on a new connection), and `hoist watch request` subscribes again and
sees its request reach the state it waits for."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_watch import watching
from tests.live.conftest import LIVE_SETTINGS, data_dir
from tests.support.http_api import Api
from tests.support.live_client import Closed, live_status, sse_subscription
from tests.support.live_server import running_server
from tests.support.processes import running_redis
from tests.support.waiting import eventually

REQUESTS = """subscription { promotionRequestChanged(application: "shop") {
  action request { id status } } }"""


async def test_losing_redis_ends_subscriptions_and_hoist_watch_subscribes_again(
    pg_url: str, tmp_path: Path
) -> None:
    with running_redis(data_dir(tmp_path, "redis")) as redis:
        settings = {**LIVE_SETTINGS, "HOIST_DATABASE_URL": pg_url, "HOIST_BROKER_URL": redis.url}
        with running_server(data_dir(tmp_path, "server"), **settings) as server:
            admin = Api(server.url, server.token)
            admin.catalog(approvals=1)
            dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
            approver = admin.user("ann@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
            [promoted] = dev.promote(dev.image("5.0.0"), ["prod"])
            request_id = promoted["request"]["id"]

            async with sse_subscription(server.url, dev.token, REQUESTS) as subscriber:
                with watching(
                    server, tmp_path, "request", request_id, "--until", "PROMOTING"
                ) as watch:
                    redis.stop()
                    with pytest.raises(Closed) as ended:
                        await subscriber.next()
                    assert "LIVE_FEED_LOST" in str(ended.value.reason)
                    assert live_status(server.url)["listening"] is False
                    with pytest.raises(Closed) as refused:
                        async with sse_subscription(server.url, dev.token, REQUESTS) as late:
                            await late.next()
                    assert "LIVE_FEED_LOST" in str(refused.value.reason)

                    redis.start()
                    eventually(
                        lambda: live_status(server.url) == {"subscribers": 1, "listening": True},
                        "the server back on Redis and hoist watch subscribed again",
                    )
                    approver(
                        """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids)
                        { results { outcome } } }""",
                        {"ids": [request_id]},
                    )
                    assert watch.exit_code() == 0
                    assert watch.line() == f"request {request_id}: PROMOTING"
                    assert watch.process.stderr is not None
                    assert "subscribing again" in watch.process.stderr.read()
