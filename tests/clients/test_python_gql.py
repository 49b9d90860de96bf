"""The Python `gql` client against the real server: it introspects the schema, checks every
document against it before sending, and reads answers the way its users will."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import SyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError, GraphQLInterfaceType, GraphQLObjectType

from tests.support.live_server import LiveServer

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

CREATE_APPLICATION = """
mutation Create($name: String!) {
  createApplication(name: $name) {
    application { id name }
    errors { code message field }
  }
}"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on Application { name }
    ... on User { email }
  }
}"""


def request(document: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables or None)


@contextmanager
def session(
    server: LiveServer, token: str | None, **headers: str
) -> Iterator[tuple[SyncClientSession, HTTPXTransport]]:
    """A gql session that fetched the schema by introspection: every document is validated
    against it on the client before it is sent."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    transport = HTTPXTransport(url=f"{server.url}/graphql", headers=headers, timeout=30)
    client = Client(transport=transport, fetch_schema_from_transport=True)
    with client as opened:
        assert isinstance(opened, SyncClientSession)
        yield opened, transport


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> Iterator[SyncClientSession]:
    """The bootstrapped super-admin's session."""
    with session(live_server, live_server.token) as (opened, _):
        yield opened


@pytest.fixture(scope="module")
def anonymous(live_server: LiveServer) -> Iterator[SyncClientSession]:
    """A session without a token (introspection needs none)."""
    with session(live_server, None) as (opened, _):
        yield opened


def test_introspection_gives_gql_a_schema_it_validates_against(
    admin: SyncClientSession,
) -> None:
    schema = admin.client.schema
    assert schema is not None
    query_type = schema.query_type
    assert query_type is not None
    assert {"node", "nodes", "me", "applications"} <= set(query_type.fields)
    application = schema.get_type("Application")
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    assert isinstance(application, GraphQLObjectType)
    assert schema.is_sub_type(node, application)  # possibleTypes came through introspection

    answer = admin.execute(request("{ me { id email superAdmin } applications { id name } }"))
    assert answer["me"]["email"] == "admin@example.com"
    assert answer["me"]["superAdmin"] is True
    assert isinstance(answer["applications"], list)

    # Checked on the client against the introspected schema: never sent.
    with pytest.raises(GraphQLError, match="Cannot query field 'nope' on type 'User'"):
        admin.execute(request("{ me { nope } }"))


def test_a_mutation_answers_its_payload_and_its_id_finds_the_object(
    admin: SyncClientSession,
) -> None:
    created = admin.execute(request(CREATE_APPLICATION, name="gql-app"))["createApplication"]
    assert created["errors"] == []
    assert created["application"]["name"] == "gql-app"
    app_id = created["application"]["id"]

    # The id from that answer, as a Relay client refetches: node(id:) gives the same object.
    found = admin.execute(request(NODE, id=app_id))["node"]
    assert found == {"__typename": "Application", "id": app_id, "name": "gql-app"}

    me = admin.execute(request("{ me { id } }"))["me"]
    answer = admin.execute(
        request(
            "query Many($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            ids=[me["id"], app_id],
        )
    )
    assert answer["nodes"] == [
        {"__typename": "User", "id": me["id"]},
        {"__typename": "Application", "id": app_id},
    ]
    listed = admin.execute(request("{ applications { id name } }"))["applications"]
    assert {"id": app_id, "name": "gql-app"} in listed


def test_a_refused_mutation_answers_errors_in_its_payload_not_an_exception(
    admin: SyncClientSession, live_server: LiveServer
) -> None:
    both = admin.execute(
        request(
            """mutation {
              good: createApplication(name: "gql-sibling") { application { name } errors { code } }
              bad: createApplication(name: "Bad Name") {
                application { id } errors { code message field }
              }
            }"""
        )
    )
    assert both["good"] == {"application": {"name": "gql-sibling"}, "errors": []}
    assert both["bad"]["application"] is None
    [error] = both["bad"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "name")
    assert "Bad Name" in error["message"]

    # A user without the right: FORBIDDEN, in the payload too.
    made = admin.execute(
        request(
            """mutation {
              createUser(input: {email: "gql-dev@example.com", name: "Dev"}) { errors { code } }
              createApiToken(name: "gql", email: "gql-dev@example.com") {
                token errors { code }
              }
            }"""
        )
    )
    assert made["createUser"]["errors"] == [] and made["createApiToken"]["errors"] == []
    with session(live_server, made["createApiToken"]["token"]) as (developer, _):
        refused = developer.execute(request(CREATE_APPLICATION, name="gql-forbidden"))
        payload = refused["createApplication"]
        assert payload["application"] is None
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
        assert developer.execute(request("{ me { email superAdmin } }"))["me"] == {
            "email": "gql-dev@example.com",
            "superAdmin": False,
        }


def test_an_unauthenticated_call_raises_transport_query_error(
    anonymous: SyncClientSession,
) -> None:
    with pytest.raises(TransportQueryError) as raised:
        anonymous.execute(request("{ me { id } }"))
    assert raised.value.errors is not None
    [error] = raised.value.errors
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["path"] == ["me"]
    assert "Authorization: Bearer" in error["message"]


def test_gql_asks_for_the_graphql_response_media_type_and_reads_it(
    live_server: LiveServer,
) -> None:
    """gql parses any JSON body whatever its Content-Type or status, so it works with a
    server that answers application/graphql-response+json (and its 401s) or application/json."""
    with session(live_server, live_server.token, Accept=GRAPHQL_RESPONSE_JSON) as (
        opened,
        transport,
    ):
        assert opened.execute(request("{ me { email } }"))["me"] == {"email": "admin@example.com"}
        assert transport.response_headers is not None
        content_type = transport.response_headers["content-type"]
        assert content_type.split(";")[0] in {GRAPHQL_RESPONSE_JSON, "application/json"}
    with session(live_server, None, Accept=GRAPHQL_RESPONSE_JSON) as (opened, _):
        with pytest.raises(TransportQueryError) as raised:
            opened.execute(request("{ me { id } }"))
        assert raised.value.errors is not None
        assert [e["extensions"]["code"] for e in raised.value.errors] == ["UNAUTHENTICATED"]
