"""Inputs Postgres can't store, and unique-constraint races, get clear answers."""

from __future__ import annotations

from app.accounts.access import SYSTEM
from app.accounts.models import User
from app.accounts.schema import UserPayload
from app.accounts.service import create_user
from app.graphql.errors import mutate
from tests.support.graphql import GraphQLClient

CREATE_USER = """mutation($email: String!) { createUser(input: {email: $email, name: "n"}) {
  user { id } errors { code message } } }"""


async def test_nul_characters_are_refused(gql: GraphQLClient, admin: str) -> None:
    users = await User.all().count()
    for body in (
        {"query": CREATE_USER, "variables": {"email": "a\x00@example.com"}},
        {
            "query": 'mutation { createUser(input: {email: "a\\u0000@x.com", name: "n"}) '
            "{ errors { message } } }"
        },
    ):
        response = await gql.http.post(
            "/graphql", json=body, headers={"Authorization": f"Bearer {admin}"}
        )
        assert response.status_code == 400
        assert "NUL" in response.text
    assert await User.all().count() == users


async def test_a_lost_unique_race_is_a_conflict(gql: GraphQLClient, admin: str) -> None:
    """The service's duplicate check passed, then the insert met the unique index."""
    await create_user(SYSTEM, "taken@example.com", "first")

    async def insert_twice() -> UserPayload:
        await User.create(email="taken@example.com", name="second")
        return UserPayload()

    result = await mutate(insert_twice, lambda errors: UserPayload(errors=errors))
    assert [e.code for e in result.errors] == ["CONFLICT"]
    assert await User.filter(email="taken@example.com").count() == 1
