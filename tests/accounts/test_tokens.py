"""API tokens: who they let in, created once and stored hashed, revoked (SPEC §2)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from app.accounts.models import ApiToken, User
from app.ids import global_id
from tests.support.catalog import denied, refused, row_counts
from tests.support.graphql import GraphQLClient
from tests.support.ids import row as row_of

if TYPE_CHECKING:
    from tests.conftest import People

ME = "{ me { email } }"
CREATE = """
mutation($name: String!, $email: String, $expiresAt: DateTime) {
  createApiToken(name: $name, email: $email, expiresAt: $expiresAt) {
    apiToken { id name expiresAt createdAt } token errors { code message field }
  }
}"""
REVOKE = """
mutation($id: ID!) { revokeApiToken(id: $id) { deleted errors { code message field } } }
"""


async def test_a_missing_token_gets_no_data(gql: GraphQLClient) -> None:
    body = await gql.http.post("/graphql", json={"query": ME})
    assert denied(body.json()) == "UNAUTHENTICATED"


async def test_a_token_without_the_bearer_scheme_is_refused(gql: GraphQLClient, admin: str) -> None:
    response = await gql.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Token {admin}"}
    )
    assert denied(response.json()) == "UNAUTHENTICATED"


async def test_an_unknown_token_gets_no_data(gql: GraphQLClient, admin: str) -> None:
    assert denied(await gql.raw(ME, token=admin + "x")) == "UNAUTHENTICATED"


async def test_unauthenticated_mutations_write_nothing(gql: GraphQLClient) -> None:
    before = await row_counts()
    body = await gql.raw(
        'mutation { createApplication(name: "shop") { errors { code message field } } }'
    )
    assert denied(body, "createApplication") == "UNAUTHENTICATED"
    assert await row_counts() == before


async def test_an_expired_token_is_refused(gql: GraphQLClient, people: People) -> None:
    _, secret = await people.user("dev@example.com")
    assert await gql(ME, token=secret) == {"me": {"email": "dev@example.com"}}
    # Scaffolding: move the expiry into the past instead of waiting for it.
    await ApiToken.filter(token_hash=hashlib.sha256(secret.encode()).hexdigest()).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert denied(await gql.raw(ME, token=secret)) == "UNAUTHENTICATED"


async def test_an_inactive_users_token_is_refused(gql: GraphQLClient, people: People) -> None:
    user, secret = await people.user("dev@example.com")
    assert await gql(ME, token=secret) == {"me": {"email": "dev@example.com"}}
    await User.filter(id=user.id).update(active=False)
    assert denied(await gql.raw(ME, token=secret)) == "UNAUTHENTICATED"


async def test_create_token_shows_the_secret_once_and_stores_only_its_hash(
    gql: GraphQLClient, people: People
) -> None:
    first = await people.token("dev@example.com")
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    data = await gql(CREATE, {"name": "ci", "expiresAt": expires.isoformat()}, token=first)
    payload = data["createApiToken"]
    assert payload["errors"] == []
    secret = payload["token"]
    assert secret.startswith("hoist_") and len(secret) > 40
    assert payload["apiToken"]["name"] == "ci"
    assert datetime.fromisoformat(payload["apiToken"]["expiresAt"]) == expires

    row = await ApiToken.get(id=row_of(payload["apiToken"]["id"], "ApiToken"))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = await ApiToken.filter(id=row.id).values()
    assert all(secret not in str(value) for value in stored[0].values())
    # The new token works, and nothing answers with the secret again.
    assert await gql(ME, token=secret) == {"me": {"email": "dev@example.com"}}
    again = await gql("{ me { email roles { role } } }", token=secret)
    assert secret not in str(again)


@pytest.mark.parametrize(
    "expires",
    [
        pytest.param(lambda: (datetime.now(UTC) - timedelta(minutes=1)).isoformat(), id="past"),
        # Later than any UTC date-time can be: refused, not a crash.
        pytest.param(lambda: "9999-12-31T23:59:00-14:00", id="beyond-9999"),
    ],
)
async def test_create_token_refuses_an_expiry_in_the_past_or_out_of_range(
    gql: GraphQLClient, people: People, expires: Callable[[], str]
) -> None:
    token = await people.token("dev@example.com")
    before = await row_counts()
    payload = (await gql(CREATE, {"name": "ci", "expiresAt": expires()}, token=token))[
        "createApiToken"
    ]
    assert payload["token"] is None and payload["apiToken"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "expiresAt")]
    assert await row_counts() == before


async def test_create_token_for_someone_else_needs_a_super_admin(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    dev = await people.token("dev@example.com")
    await people.user("ops@example.com")
    before = await row_counts()
    body = await gql.raw(CREATE, {"name": "x", "email": "ops@example.com"}, token=dev)
    assert refused(body, "createApiToken") == "FORBIDDEN"
    assert await row_counts() == before

    # Naming yourself is not "someone else".
    own = await gql(CREATE, {"name": "own", "email": "DEV@example.com"}, token=dev)
    assert own["createApiToken"]["errors"] == []

    payload = (await gql(CREATE, {"name": "x", "email": "ops@example.com"}, token=admin))[
        "createApiToken"
    ]
    assert payload["errors"] == []
    assert await gql(ME, token=payload["token"]) == {"me": {"email": "ops@example.com"}}

    unknown = (await gql(CREATE, {"name": "x", "email": "who@example.com"}, token=admin))[
        "createApiToken"
    ]
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "email")]


async def _token_id(gql: GraphQLClient, token: str, name: str = "extra") -> tuple[str, str]:
    payload = (await gql(CREATE, {"name": name}, token=token))["createApiToken"]
    return payload["apiToken"]["id"], payload["token"]


async def test_revoking_your_own_token_stops_it_on_the_next_request(
    gql: GraphQLClient, people: People
) -> None:
    first = await people.token("dev@example.com")
    token_id, second = await _token_id(gql, first)
    assert await gql(ME, token=second) == {"me": {"email": "dev@example.com"}}

    data = await gql(REVOKE, {"id": token_id}, token=second)
    assert data == {"revokeApiToken": {"deleted": True, "errors": []}}
    assert denied(await gql.raw(ME, token=second)) == "UNAUTHENTICATED"
    assert await gql(ME, token=first) == {"me": {"email": "dev@example.com"}}
    assert (await ApiToken.get(id=row_of(token_id, "ApiToken"))).revoked_at is not None


async def test_someone_elses_token_is_unknown_to_a_non_admin(
    gql: GraphQLClient, people: People
) -> None:
    dev = await people.token("dev@example.com")
    ops = await people.token("ops@example.com")
    token_id, ops_second = await _token_id(gql, ops)

    data = await gql(REVOKE, {"id": token_id}, token=dev)
    assert data["revokeApiToken"]["deleted"] is False
    assert [(e["code"], e["field"]) for e in data["revokeApiToken"]["errors"]] == [
        ("NOT_FOUND", "id")
    ]
    assert (await ApiToken.get(id=row_of(token_id, "ApiToken"))).revoked_at is None
    assert await gql(ME, token=ops_second) == {"me": {"email": "ops@example.com"}}

    # An id nothing has (or not an ApiToken id at all) answers the same way, so the
    # two cannot be told apart.
    for missing in (global_id("ApiToken", 999999), "999999", "abc", "99999999999999999999"):
        data = await gql(REVOKE, {"id": missing}, token=dev)
        assert data["revokeApiToken"]["errors"][0]["code"] == "NOT_FOUND", missing


async def test_a_super_admin_revokes_anyones_token(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    ops = await people.token("ops@example.com")
    token_id, ops_second = await _token_id(gql, ops)
    data = await gql(REVOKE, {"id": token_id}, token=admin)
    assert data == {"revokeApiToken": {"deleted": True, "errors": []}}
    assert denied(await gql.raw(ME, token=ops_second)) == "UNAUTHENTICATED"
    assert await gql(ME, token=ops) == {"me": {"email": "ops@example.com"}}
