"""`me { apiTokens }`: a user lists their own tokens, never a secret; `users` and another
user's tokens are for super-admins only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from app.accounts.models import Role
from tests.support.graphql import GraphQLClient

if TYPE_CHECKING:
    from tests.conftest import People

MY_TOKENS = "{ me { apiTokens { id name createdAt expiresAt revoked revokedAt } } }"


async def test_me_lists_my_tokens_without_secrets(gql: GraphQLClient, people: People) -> None:
    _, first = await people.user("dev@example.com", (Role.VIEWER, "*", "*"))
    made = (
        await gql(
            """mutation { createApiToken(name: "ci", expiresAt: "2999-01-01T00:00:00Z")
                         { token apiToken { id } } }""",
            token=first,
        )
    )["createApiToken"]
    await people.user("other@example.com")  # their tokens are not mine
    listed = (await gql(MY_TOKENS, token=first))["me"]["apiTokens"]
    assert [(t["name"], t["revoked"], t["revokedAt"]) for t in listed] == [
        ("test", False, None),
        ("ci", False, None),
    ]
    assert listed[1]["expiresAt"].startswith("2999-01-01") and listed[0]["expiresAt"] is None
    assert first not in json.dumps(listed) and made["token"] not in json.dumps(listed)

    revoked = await gql(
        f'mutation {{ revokeApiToken(id: "{listed[0]["id"]}") {{ deleted }} }}', token=made["token"]
    )
    assert revoked == {"revokeApiToken": {"deleted": True}}
    after = (await gql(MY_TOKENS, token=made["token"]))["me"]["apiTokens"]
    assert [(t["name"], t["revoked"], t["revokedAt"] is not None) for t in after] == [
        ("test", True, True),
        ("ci", False, False),
    ]


async def test_other_users_tokens_and_the_user_list_are_for_super_admins(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    _, dev = await people.user("dev@example.com", (Role.VIEWER, "*", "*"))
    assert await gql.error_code("{ users { edges { node { email } } } }", token=dev) == (
        "FORBIDDEN"
    )
    users = (
        await gql(
            """{ users(first: 1) { edges { node { email apiTokens { name } } }
                                              pageInfo { hasNextPage endCursor } } }""",
            token=admin,
        )
    )["users"]
    # Newest first, paged like every list.
    assert users["edges"] == [
        {"node": {"email": "dev@example.com", "apiTokens": [{"name": "test"}]}}
    ]
    assert users["pageInfo"]["hasNextPage"] is True
    rest = (
        await gql(
            f"""{{ users(after: "{users["pageInfo"]["endCursor"]}")
                             {{ edges {{ node {{ email }} }} }} }}""",
            token=admin,
        )
    )["users"]
    assert [e["node"]["email"] for e in rest["edges"]] == ["admin@example.com"]
