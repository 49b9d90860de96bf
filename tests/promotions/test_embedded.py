"""The embedded default (`hoist serve` alone: SQLite, in-process worker, no Redis) promotes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from app.ids import row_id
from tests.support.live_server import LiveServer, live_server, running_server  # noqa: F401
from tests.support.waiting import eventually

SETUP = """mutation {
  createApplication(name: "shop") { errors { message } }
  dev: createEnvironment(name: "dev") { errors { message } }
  prod: createEnvironment(name: "prod", production: true) { errors { message } }
}"""
WORKFLOW = """mutation { createWorkflow(input: { application: "shop", name: "main",
  ciPipeline: "ci", cdPipelines: [{environment: "dev"}, {environment: "prod",
  parentEnvironment: "dev"}] }) { errors { message } } }"""
POLICY = """mutation {
  createPromotionPolicy(input: {name: "fast-lane"}) { errors { message } }
  applyPromotionPolicy(policy: "fast-lane",
    applicationEnvironments: [{appName: "shop", envName: "prod"}]) { errors { message } }
  registerImage(input: {application: "shop", workflow: "main",
    image: "registry.example.com/shop:1.0"}) { image { id } errors { message } }
}"""

# The same policy needing an approval, with a time limit.
TIMED = 'name: "fast-lane", approverCount: 1, requestTimeout: "1h"}'


def call(server: LiveServer, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def test_embedded_worker_promotes_without_redis(live_server: LiveServer) -> None:  # noqa: F811
    call(live_server, SETUP)
    call(live_server, WORKFLOW)
    data = call(live_server, POLICY)
    image = data["registerImage"]["image"]["id"]
    result = call(
        live_server,
        """mutation($i: ID!) { promoteImage(imageId: $i,
        source: {type: CI}, targetEnvironments: ["prod"]) { results { outcome
        request { id } } } }""",
        {"i": image},
    )["promoteImage"]["results"][0]
    assert result["outcome"] == "PROMOTING"
    eventually(
        lambda: (
            call(
                live_server,
                "query($id: ID!) { promotionRequest(id: $id) { status } }",
                {"id": result["request"]["id"]},
            )["promotionRequest"]["status"]
            == "PROMOTED"
        ),
        "the embedded worker promoting",
    )
    history = call(
        live_server,
        "query($id: ID!) { promotionRequest(id: $id) { promotedAt } }",
        {"id": result["request"]["id"]},
    )
    assert history["promotionRequest"]["promotedAt"] is not None


def test_embedded_worker_runs_the_sweeps(tmp_path: Path) -> None:
    """`hoist serve` alone expires a request whose time ran out: the in-process worker
    runs the periodic sweeps after each relay (issue 16). The server reads the system
    clock, so the scene dates the request's deadline back instead of waiting."""
    with running_server(tmp_path, HOIST_OUTBOX_RELAY_INTERVAL_SECONDS="0.2") as server:
        call(server, SETUP)
        call(server, WORKFLOW)
        image = call(server, POLICY.replace('name: "fast-lane"}', TIMED))["registerImage"]
        [result] = call(
            server,
            """mutation($i: ID!) { promoteImage(imageId: $i, source: {type: CI},
            targetEnvironments: ["prod"]) { results { outcome request { id } } } }""",
            {"i": image["image"]["id"]},
        )["promoteImage"]["results"]
        assert result["outcome"] == "AWAITING_APPROVAL"
        request = result["request"]["id"]
        with sqlite3.connect(tmp_path / "hoist.sqlite3") as db:
            db.execute(
                "UPDATE promotion_requests SET expires_at = ? WHERE id = ?",
                (
                    (datetime.now(UTC) - timedelta(minutes=1)).isoformat(sep=" "),
                    row_id(request, "PromotionRequest"),
                ),
            )

        def status() -> str:
            query = "query($id: ID!) { promotionRequest(id: $id) { status } }"
            return str(call(server, query, {"id": request})["promotionRequest"]["status"])

        eventually(lambda: status() == "EXPIRED", "the embedded sweep expiring the request")
