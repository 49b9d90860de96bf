"""The HTTP endpoint: offline GraphiQL, its assets, document limits, masked crashes (SPEC §8)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from graphql.language import Lexer, Source, TokenKind

from app.catalog import models
from app.settings import get_settings
from tests.support.graphql import GraphQLClient

MASKED = "Internal error; it has been logged."


async def test_graphiql_is_served_from_local_assets(gql: GraphQLClient) -> None:
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    assert not re.search(r"https?://", page.text), "the page must not load anything remote"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 4, assets  # GraphiQL's script and style, React, ReactDOM
    for url in assets:
        assert url.startswith("/assets/"), url
        response = await gql.http.get(url)
        assert response.status_code == 200, url
        # npm's bundles are big; Hoist's own page script, style and icon are small.
        assert len(response.content) > (100 if url.startswith("/assets/hoist/") else 1000), url


@pytest.mark.parametrize(
    "path",
    [
        "/assets/graphiql/nope.js",
        "/assets/nope/graphiql.min.js",
        "/assets/react/package.json",  # installed, but not one of the served files
        "/assets/graphiql/%2e%2e/%2e%2e/pyproject.toml",
        "/assets/graphiql/..%2f..%2fpyproject.toml",
        "/assets/graphiql/%2e%2e%2fgraphiql%2fgraphiql.min.js",
    ],
)
async def test_only_known_asset_files_are_served(gql: GraphQLClient, path: str) -> None:
    response = await gql.http.get(path)
    assert response.status_code == 404
    assert "[project]" not in response.text


async def test_dot_segments_in_a_raw_request_path_are_not_served(gql: GraphQLClient) -> None:
    # httpx would normalise "../" in a URL; send the raw target as a client could.
    request = gql.http.build_request("GET", "http://hoist.test/assets/graphiql/graphiql.min.css")
    request.url = request.url.copy_with(raw_path=b"/assets/graphiql/../../pyproject.toml")
    response = await gql.http.send(request)
    assert response.status_code == 404
    assert "[project]" not in response.text


async def test_post_is_answered_in_place(gql: GraphQLClient, admin: str) -> None:
    response = await gql.http.post(
        "/graphql",
        json={"query": "{ me { email } }"},
        headers={"Authorization": f"Bearer {admin}"},
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"email": "admin@example.com"}}}


def nested(levels: int) -> str:
    """A query `levels` fields deep (image > application > workflows > ... > policy)."""
    chain = ['image(id: "1")', "application", "workflows", "cdPipelines"]
    chain += ["policy", "bindings"] * 8
    fields = chain[:levels]
    assert len(fields) == levels
    return "{ " + " { ".join(fields) + " { __typename" + " }" * levels + " }"


def refused(body: dict[str, Any], words: str) -> None:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    assert words in body["errors"][0]["message"], body


async def test_query_depth_is_limited(gql: GraphQLClient, admin: str) -> None:
    limit = get_settings().graphql_max_depth
    assert await gql(nested(limit), token=admin) == {"image": None}
    refused(await gql.raw(nested(limit + 1), token=admin), "depth")


async def test_aliases_are_limited(gql: GraphQLClient, admin: str) -> None:
    limit = get_settings().graphql_max_aliases

    def aliases(count: int) -> str:
        return "{ " + " ".join(f"e{i}: environments {{ name }}" for i in range(count)) + " }"

    data = await gql(aliases(limit), token=admin)
    assert data == {f"e{i}": [] for i in range(limit)}
    refused(await gql.raw(aliases(limit + 1), token=admin), "aliases")


def token_count(document: str) -> int:
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


async def test_tokens_are_limited(gql: GraphQLClient, admin: str) -> None:
    limit = get_settings().graphql_max_tokens

    def document(tokens: int) -> str:
        """Operations of 40 `__typename @include(if: true)` (8 tokens each), padded with
        plain `__typename`s (1 token): no input list (at most 100 items) and no field
        repeated past its own limit in one selection set, so only the tokens can refuse."""
        operations, left = [], tokens
        while left:
            fields = min(40, (left - 4) // 8)
            pad = left - 4 - 8 * fields if fields < 40 else 0
            operations.append(
                f"query Q{len(operations)} {{ "
                + "__typename @include(if: true) " * fields
                + "__typename " * pad
                + "}"
            )
            left -= 4 + 8 * fields + pad
        return "\n".join(operations)

    async def run(query: str) -> dict[str, Any]:
        response = await gql.http.post(
            "/graphql",
            json={"query": query, "operationName": "Q0"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    at_limit = document(limit)
    assert token_count(at_limit) == limit
    assert await run(at_limit) == {"data": {"__typename": "Query"}}
    over = document(limit + 1)
    assert token_count(over) == limit + 1
    refused(await run(over), "tokens")


async def test_a_crash_is_masked_and_logged(
    gql: GraphQLClient,
    admin: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_database(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    # Scaffolding: the ORM call fails as a lost database connection would.
    monkeypatch.setattr(models.Environment, "all", broken_database)
    with caplog.at_level(logging.ERROR):
        response = await gql.http.post(
            "/graphql",
            json={"query": "{ environments { name } }"},
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [MASKED]
    assert "secret detail" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert logged, "the crash must be logged"
    assert any("secret detail" in str(r.exc_info[1]) for r in logged if r.exc_info)


async def test_a_variable_of_the_wrong_type_is_explained_not_masked(
    gql: GraphQLClient, admin: str, caplog: pytest.LogCaptureFixture
) -> None:
    mutation = 'mutation($at: DateTime) { createApiToken(name: "x", expiresAt: $at) { token } }'
    query = "query($id: ID!) { image(id: $id) { id } }"
    with caplog.at_level(logging.ERROR):
        for document, variables in (
            (mutation, {"at": "next tuesday"}),
            (query, {"id": {"nested": 1}}),
        ):
            body = await gql.raw(document, variables, token=admin)
            assert body.get("data") is None, body
            message = body["errors"][0]["message"]
            assert message != MASKED
            assert "Variable '$" in message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_literal_graphql_core_fails_to_check_is_explained_not_masked(
    gql: GraphQLClient, admin: str, caplog: pytest.LogCaptureFixture
) -> None:
    # "İ" lower-cases to two characters, which crashes graphql-core 3.3.2's "did you mean"
    # code while it validates the enum literal (found by tests/fuzz).
    with caplog.at_level(logging.ERROR):
        body = await gql.raw('{ promotionRequests(status: ["İ"]) { totalCount } }', {}, admin)
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["message"] == "Expected value of type 'PromotionStatus', found: \"İ\"."
    assert error["locations"] == [{"line": 1, "column": 30}]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
