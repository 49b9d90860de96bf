from __future__ import annotations

from tests.support.graphql import GraphQLClient

ME = "{ me { email superAdmin } }"


async def test_missing_token_is_unauthenticated(gql: GraphQLClient) -> None:
    assert await gql.error_code(ME) == "UNAUTHENTICATED"


async def test_unknown_token_is_unauthenticated(gql: GraphQLClient) -> None:
    assert await gql.error_code(ME, token="hoist_not-a-real-token") == "UNAUTHENTICATED"


async def test_valid_token_identifies_the_caller(gql: GraphQLClient, admin: str) -> None:
    assert await gql(ME, token=admin) == {"me": {"email": "admin@example.com", "superAdmin": True}}
