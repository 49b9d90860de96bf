"""The npm client graphql-request against the real server: graphql_request_probe.mjs runs
a query, mutations, node(id:) and two refusals with it and prints what it got."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.live_server import LiveServer
from tests.support.services import require_program

PROBE = Path(__file__).with_name("graphql_request_probe.mjs")
ROOT = Path(__file__).parents[2]
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


@pytest.fixture(scope="module")
def probe(live_server: LiveServer) -> dict[str, Any]:
    """What the probe printed, run once for the module's tests."""
    node = require_program("node")
    # The checkout's node_modules (`npm ci`, devDependencies included) holds graphql-request;
    # Node resolves the script's import from the script's own folder upwards.
    if not (ROOT / "node_modules" / "graphql-request" / "package.json").exists():
        pytest.fail("graphql-request is not installed: run `npm ci` (or `make setup`)")
    result = subprocess.run(
        [node, str(PROBE)],
        env=live_server.env(PROBE_NAME="node-app"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def media_type(content_type: str | None) -> str:
    assert content_type is not None
    return content_type.split(";")[0].strip()


def test_a_query_answers_with_the_data(probe: dict[str, Any]) -> None:
    assert probe["me"]["email"] == "admin@example.com"
    assert probe["me"]["superAdmin"] is True
    assert probe["meStatus"] == 200
    # graphql-request asks for application/graphql-response+json first; either JSON type
    # is one it parses.
    assert media_type(probe["meContentType"]) in {GRAPHQL_RESPONSE_JSON, "application/json"}


def test_a_mutation_answers_its_payload_and_its_id_finds_the_object(
    probe: dict[str, Any],
) -> None:
    created = probe["created"]
    assert created["errors"] == []
    assert created["application"]["name"] == "node-app"
    app_id = created["application"]["id"]
    assert probe["node"] == {"__typename": "Application", "id": app_id, "name": "node-app"}
    assert probe["nodes"] == [
        {"__typename": "User", "id": probe["me"]["id"]},
        {"__typename": "Application", "id": app_id},
    ]


def test_refused_mutations_answer_errors_in_their_payloads_not_a_client_error(
    probe: dict[str, Any],
) -> None:
    refused = probe["refused"]
    assert refused["threw"] is False  # graphql-request throws on any top-level error
    data = refused["data"]
    assert data["bad"] == {"application": None, "errors": [{"code": "VALIDATION", "field": "name"}]}
    assert data["again"] == {"application": None, "errors": [{"code": "CONFLICT", "field": "name"}]}
    # A refused mutation does not null its siblings.
    assert data["good"] == {"application": {"name": "node-app-sibling"}, "errors": []}


def test_an_unauthenticated_request_throws_client_error_with_the_code(
    probe: dict[str, Any],
) -> None:
    refusal = probe["unauthenticated"]
    assert refusal["threw"] is True
    assert [e["extensions"]["code"] for e in refusal["errors"]] == ["UNAUTHENTICATED"]
    assert refusal["errors"][0]["path"] == ["me"]
    # Under application/json every GraphQL answer is a 200; under the newer media type an
    # unauthenticated request is a 401. graphql-request reads the errors either way.
    expected = {"application/json": 200, GRAPHQL_RESPONSE_JSON: 401}
    assert refusal["status"] == expected[media_type(refusal["contentType"])]


def test_an_invalid_document_throws_client_error_with_the_message(
    probe: dict[str, Any],
) -> None:
    refusal = probe["invalid"]
    assert refusal["threw"] is True
    [error] = refusal["errors"]
    assert error["message"].startswith("Cannot query field 'nope' on type 'User'")
    expected = {"application/json": 200, GRAPHQL_RESPONSE_JSON: 400}
    assert refusal["status"] == expected[media_type(refusal["contentType"])]
