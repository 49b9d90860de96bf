"""/graphql follows GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/,
issue 14 item 3): media types by Accept, status codes under application/graphql-response+json,
405/406/415 refusals in JSON, HEAD, OPTIONS and CORS (HOIST_CORS_ORIGINS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.asgi import create_app
from app.catalog import models
from app.settings import Settings, get_settings
from tests.conftest import People
from tests.graphql.test_http_hardening import ANSWER_WITHIN_SECONDS
from tests.support.graphql import GraphQLClient
from tests.support.live_server import LiveServer, live_server

__all__ = ["live_server"]

SPEC = "application/graphql-response+json"
JSON = "application/json"
# Clients that want the spec's status codes send this (the spec's own recommendation).
PREFERS_SPEC = {"Accept": f"{SPEC}, {JSON};q=0.9"}
ALLOWED = "https://app.example"


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert isinstance(body["errors"], list) and body["errors"], body
    return list(body["errors"])


async def post(
    gql: GraphQLClient, query: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await gql.http.post("/graphql", json={"query": query, **body}, headers=headers)


# --- Media types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (SPEC, SPEC),
        (f"{SPEC}, {JSON};q=0.9", SPEC),
        (f"{JSON}, {SPEC}", SPEC),  # tied, and named: the spec's type
        (JSON, JSON),
        (f"{JSON}, {SPEC};q=0.5", JSON),  # q-values decide
        (f"{SPEC};q=0, */*", JSON),  # the named range beats the wildcard
        (f"{JSON};q=0.5, application/*", SPEC),  # a wildcard can make it preferred
        ("*/*", JSON),  # curl, httpx, fetch: today's answers
        ("application/*", JSON),
        ("text/html, application/xhtml+xml, */*;q=0.8", JSON),  # a browser
        (f"{SPEC}; charset=utf-8", SPEC),  # parameters other than q ignored
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", SPEC),  # media types are case-insensitive
    ],
)
async def test_the_answer_is_in_the_media_type_accept_prefers(
    gql: GraphQLClient, accept: str, expected: str
) -> None:
    response = await post(gql, "{ __typename }", {"Accept": accept})
    assert response.status_code == 200, response.text
    assert media_type(response) == expected
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_no_accept_header_gets_application_json(gql: GraphQLClient) -> None:
    request = gql.http.build_request("POST", "/graphql", json={"query": "{ __typename }"})
    del request.headers["accept"]  # httpx sends */* unless told otherwise
    response = await gql.http.send(request)
    assert response.status_code == 200
    assert media_type(response) == JSON


@pytest.mark.parametrize(
    "accept", ["text/csv", "text/*", f"{SPEC};q=0, {JSON};q=0", f"{JSON};q=nonsense"]
)
async def test_accepting_neither_json_type_is_a_406_in_json(
    gql: GraphQLClient, accept: str
) -> None:
    response = await post(gql, "{ __typename }", {"Accept": accept})
    assert response.status_code == 406
    assert media_type(response) == JSON
    [error] = errors_of(response)
    assert "Accept" in error["message"] and SPEC in error["message"]
    assert "data" not in response.json()


async def test_a_browser_still_gets_graphiql(gql: GraphQLClient) -> None:
    # Accept names neither JSON type, but a GET without a query is the page, not a 406.
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert media_type(page) == "text/html"


async def test_head_is_answered_like_the_browsers_get(gql: GraphQLClient) -> None:
    response = await gql.http.head("/graphql", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.content == b""
    assert media_type(response) == "text/html"


# --- Status codes --------------------------------------------------------------------------

REQUEST_ERRORS = {
    "syntax": ("{ me { email ", {}),
    "validation": ("{ noSuchField }", {}),
    "limits": ("{ " + " ".join(f"a{i}: __typename" for i in range(200)) + " }", {}),
    "variables": ("query($id: ID!) { image(id: $id) { id } }", {"id": {"nested": 1}}),
}


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
async def test_a_request_error_is_a_400_without_data(
    gql: GraphQLClient, admin: str, case: str
) -> None:
    query, variables = REQUEST_ERRORS[case]
    headers = {**PREFERS_SPEC, "Authorization": f"Bearer {admin}"}
    response = await post(gql, query, headers, variables=variables)
    assert response.status_code == 400, response.text
    assert media_type(response) == SPEC
    assert "data" not in response.json(), response.json()
    assert errors_of(response)


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
async def test_under_application_json_a_request_error_stays_a_200_with_null_data(
    gql: GraphQLClient, admin: str, case: str
) -> None:
    query, variables = REQUEST_ERRORS[case]
    headers = {"Accept": JSON, "Authorization": f"Bearer {admin}"}
    response = await post(gql, query, headers, variables=variables)
    assert response.status_code == 200, response.text
    assert media_type(response) == JSON
    assert response.json()["data"] is None
    assert errors_of(response)


async def test_a_field_error_after_execution_is_a_200_with_data(
    gql: GraphQLClient, people: People
) -> None:
    # A caller who may not list users: FORBIDDEN at the field, next to data that resolved.
    viewer = await people.token("viewer@example.com")
    headers = {**PREFERS_SPEC, "Authorization": f"Bearer {viewer}"}
    response = await post(gql, "{ me { email } users { edges { node { email } } } }", headers)
    assert response.status_code == 200, response.text
    assert media_type(response) == SPEC
    body = response.json()
    assert "data" in body
    assert [e["extensions"]["code"] for e in errors_of(response)] == ["FORBIDDEN"]


async def test_a_masked_crash_during_execution_is_a_200_with_data(
    gql: GraphQLClient, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_database(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    # Scaffolding: the ORM call fails as a lost database connection would.
    monkeypatch.setattr(models.Environment, "all", broken_database)
    headers = {**PREFERS_SPEC, "Authorization": f"Bearer {admin}"}
    response = await post(gql, "{ environments { name } }", headers)
    assert response.status_code == 200
    assert "data" in response.json()
    assert "secret detail" not in response.text


@pytest.mark.parametrize(
    ("token", "challenge"),
    [(None, "Bearer"), ("hoist_not-a-token", 'Bearer error="invalid_token"')],
)
async def test_unauthenticated_is_a_401_with_a_bearer_challenge(
    gql: GraphQLClient, token: str | None, challenge: str
) -> None:
    headers = dict(PREFERS_SPEC)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await post(gql, "{ me { email } }", headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert media_type(response) == SPEC
    assert [e["extensions"]["code"] for e in errors_of(response)] == ["UNAUTHENTICATED"]


async def test_under_application_json_unauthenticated_stays_a_200(gql: GraphQLClient) -> None:
    response = await post(gql, "{ me { email } }", {"Accept": JSON})
    assert response.status_code == 200
    assert "www-authenticate" not in response.headers
    assert [e["extensions"]["code"] for e in errors_of(response)] == ["UNAUTHENTICATED"]


# --- Methods ---------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [SPEC, JSON])
async def test_a_mutation_over_get_is_a_405_naming_post(gql: GraphQLClient, accept: str) -> None:
    response = await gql.http.get(
        "/graphql",
        params={"query": 'mutation { createApiToken(name: "x") { token } }'},
        headers={"Accept": accept},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert media_type(response) == accept
    [error] = errors_of(response)
    assert "mutations are not allowed when using GET" in error["message"]
    assert "data" not in response.json()


async def test_a_query_over_get_is_answered(gql: GraphQLClient) -> None:
    response = await gql.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers=PREFERS_SPEC
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_a_405_in_json_with_allow(gql: GraphQLClient, method: str) -> None:
    response = await gql.http.request(method, "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
    assert media_type(response) == JSON
    [error] = errors_of(response)
    assert method in error["message"]


async def test_options_without_cors_lists_the_methods(gql: GraphQLClient) -> None:
    response = await gql.http.options("/graphql")
    assert response.status_code == 204
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
    assert response.content == b""


# --- Request body's Content-Type ---------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json-seq",  # Strawberry took anything containing "application/json"
        "application/json; charset=latin-1",
        None,
    ],
)
async def test_a_body_that_is_not_json_is_a_415_naming_the_problem(
    gql: GraphQLClient, content_type: str | None
) -> None:
    request = gql.http.build_request(
        "POST", "/graphql", content=b'{"query": "{ __typename }"}', headers=PREFERS_SPEC
    )
    if content_type is None:
        request.headers.pop("content-type", None)
    else:
        request.headers["content-type"] = content_type
    response = await gql.http.send(request)
    assert response.status_code == 415, response.text
    assert media_type(response) == SPEC
    [error] = errors_of(response)
    assert JSON in error["message"]
    assert (content_type or "no Content-Type") in error["message"]


@pytest.mark.parametrize(
    "content_type", [JSON, "application/json; charset=utf-8", "application/json;charset=UTF-8"]
)
async def test_a_json_body_is_served(gql: GraphQLClient, content_type: str) -> None:
    response = await gql.http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


# --- CORS ------------------------------------------------------------------------------------


@pytest.fixture
async def cors_client(db: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The app built with HOIST_CORS_ORIGINS naming one origin."""
    monkeypatch.setattr(get_settings(), "cors_origins", [ALLOWED])
    transport = httpx.ASGITransport(app=create_app(manage_database=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://hoist.test") as http:
        yield http


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, accept",
    }


async def test_a_configured_origin_passes_the_preflight(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.options("/graphql", headers=preflight(ALLOWED))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert allowed >= {"authorization", "content-type", "accept"}
    assert response.content == b""


async def test_another_origin_fails_the_preflight_in_json(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.options("/graphql", headers=preflight("https://evil.example"))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert media_type(response) == JSON
    [error] = errors_of(response)
    assert "origin" in error["message"]


async def test_only_a_configured_origin_may_read_answers(cors_client: httpx.AsyncClient) -> None:
    query = {"query": "{ me { email } }"}
    allowed = await cors_client.post(
        "/graphql", json=query, headers={**PREFERS_SPEC, "Origin": ALLOWED}
    )
    assert allowed.status_code == 401
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    # The page can read why it was refused.
    exposed = allowed.headers["access-control-expose-headers"].lower()
    assert "www-authenticate" in exposed
    other = await cors_client.post(
        "/graphql", json=query, headers={**PREFERS_SPEC, "Origin": "https://evil.example"}
    )
    assert other.status_code == 401
    assert "access-control-allow-origin" not in other.headers


async def test_without_configuration_there_are_no_cors_headers(gql: GraphQLClient) -> None:
    assert get_settings().cors_origins == []
    answer = await gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
    )
    assert answer.status_code == 200
    refused = await gql.http.options("/graphql", headers=preflight(ALLOWED))
    assert refused.status_code == 204  # the view's own OPTIONS answer: no CORS in it
    for response in (answer, refused):
        assert not [h for h in response.headers if h.startswith("access-control-")]


def test_cors_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOIST_CORS_ORIGINS", f" {ALLOWED}, http://localhost:3000 ,")
    assert Settings().cors_origins == [ALLOWED, "http://localhost:3000"]
    monkeypatch.setenv("HOIST_CORS_ORIGINS", "")
    assert Settings().cors_origins == []


@pytest.mark.parametrize("bad", [f"{ALLOWED}/", f"{ALLOWED}/app", "app.example", "ftp://x"])
def test_a_cors_origin_that_no_browser_sends_is_refused(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("HOIST_CORS_ORIGINS", bad)
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings()


# --- Through the real server (uvicorn) -----------------------------------------------------


def test_the_real_server_answers_by_the_spec(live_server: LiveServer) -> None:
    url = f"{live_server.url}/graphql"
    with httpx.Client(timeout=ANSWER_WITHIN_SECONDS) as http:
        refused = http.post(url, json={"query": "{ noSuchField }"}, headers=PREFERS_SPEC)
        assert refused.status_code == 400 and media_type(refused) == SPEC
        assert "data" not in refused.json()
        legacy = http.post(url, json={"query": "{ noSuchField }"})
        assert legacy.status_code == 200 and legacy.json()["data"] is None
        unauthenticated = http.post(url, json={"query": "{ me { email } }"}, headers=PREFERS_SPEC)
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["www-authenticate"] == "Bearer"
        put = http.put(url, json={"query": "{ __typename }"})
        assert put.status_code == 405 and "POST" in put.headers["allow"]
        assert errors_of(put)
        options = http.options(url)
        assert options.status_code == 204 and "POST" in options.headers["allow"]
        head = http.head(url)
        assert head.status_code == 200 and head.content == b""
