"""Users and role bindings: only super-admins manage them; bad names are NOT_FOUND (SPEC §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from app.accounts.models import Role, RoleBinding, User
from app.accounts.service import authenticate, bootstrap_super_admin
from tests.support.catalog import make_catalog, refused, row_counts
from tests.support.graphql import GraphQLClient

if TYPE_CHECKING:
    from tests.conftest import People

CREATE_USER = """
mutation($email: String!, $name: String!, $superAdmin: Boolean) {
  createUser(input: {email: $email, name: $name, superAdmin: $superAdmin}) {
    user { email name superAdmin roles { role } } errors { code field }
  }
}"""
GRANT = """
mutation($email: String!, $role: Role!, $app: String, $env: String) {
  grantRole(email: $email, role: $role, application: $app, environment: $env) {
    roleBinding { role application environment } errors { code message field }
  }
}"""
REVOKE = """
mutation($email: String!, $role: Role!, $app: String, $env: String) {
  revokeRole(email: $email, role: $role, application: $app, environment: $env) {
    deleted errors { code message field }
  }
}"""
ME_ROLES = "{ me { email superAdmin roles { role application environment } } }"

# Every role on every application and environment: still not a super-admin.
ALL_ROLES = tuple((role, "*", "*") for role in Role)


def grant_vars(**extra: Any) -> dict[str, Any]:
    return {"email": "dev@example.com", "role": "VIEWER", "app": "shop", "env": "dev", **extra}


async def test_a_super_admin_creates_users(gql: GraphQLClient, admin: str) -> None:
    data = await gql(CREATE_USER, {"email": " Dev@Example.com ", "name": "Dev"}, token=admin)
    assert data["createUser"] == {
        "user": {"email": "dev@example.com", "name": "Dev", "superAdmin": False, "roles": []},
        "errors": [],
    }
    again = await gql(CREATE_USER, {"email": "dev@example.com", "name": "Dev"}, token=admin)
    assert again["createUser"] == {"user": None, "errors": [{"code": "CONFLICT", "field": "email"}]}
    bad = await gql(CREATE_USER, {"email": "not-an-email", "name": " "}, token=admin)
    assert sorted(e["field"] for e in bad["createUser"]["errors"]) == ["email", "name"]
    assert await User.filter(email="dev@example.com").count() == 1
    assert await User.all().count() == 2


async def test_only_super_admins_create_users(gql: GraphQLClient, people: People) -> None:
    token = await people.token("dev@example.com", *ALL_ROLES)
    before = await row_counts()
    variables = {"email": "new@example.com", "name": "New", "superAdmin": True}
    assert refused(await gql.raw(CREATE_USER, variables, token=token), "createUser") == "FORBIDDEN"
    assert await row_counts() == before


async def test_grant_and_revoke_a_role(gql: GraphQLClient, people: People, admin: str) -> None:
    await make_catalog()
    token = await people.token("dev@example.com")
    assert (await gql(ME_ROLES, token=token))["me"]["roles"] == []

    data = await gql(GRANT, grant_vars(), token=admin)
    assert data["grantRole"] == {
        "roleBinding": {"role": "VIEWER", "application": "shop", "environment": "dev"},
        "errors": [],
    }
    me = (await gql(ME_ROLES, token=token))["me"]
    assert me == {
        "email": "dev@example.com",
        "superAdmin": False,
        "roles": [{"role": "VIEWER", "application": "shop", "environment": "dev"}],
    }

    data = await gql(REVOKE, grant_vars(), token=admin)
    assert data["revokeRole"] == {"deleted": True, "errors": []}
    assert (await gql(ME_ROLES, token=token))["me"]["roles"] == []
    assert await RoleBinding.all().count() == 0


async def test_granting_a_held_role_again_changes_nothing(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    await make_catalog()
    await people.user("dev@example.com")
    first = await gql(GRANT, grant_vars(), token=admin)
    before = await row_counts()
    second = await gql(GRANT, grant_vars(), token=admin)
    assert second == first
    assert await RoleBinding.filter(user__email="dev@example.com").count() == 1
    assert await row_counts() == before  # not even an audit event


async def test_wildcards_are_the_defaults(gql: GraphQLClient, people: People, admin: str) -> None:
    await people.user("dev@example.com")
    grant = """mutation { grantRole(email: "dev@example.com", role: BUILD_DEPLOY) {
      roleBinding { application environment } errors { code } } }"""
    data = await gql(grant, token=admin)
    assert data["grantRole"] == {
        "roleBinding": {"application": "*", "environment": "*"},
        "errors": [],
    }


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"email": "who@example.com"}, "email"),
        ({"app": "nope"}, "application"),
        ({"env": "nope"}, "environment"),
        # An empty name (a script's unset variable) must not widen the grant to `*`.
        ({"app": ""}, "application"),
        ({"env": ""}, "environment"),
    ],
)
async def test_grant_names_the_unknown_thing(
    gql: GraphQLClient, people: People, admin: str, variables: dict[str, str], field: str
) -> None:
    await make_catalog()
    await people.user("dev@example.com")
    before = await row_counts()
    data = await gql(GRANT, grant_vars(**variables), token=admin)
    assert data["grantRole"]["roleBinding"] is None
    assert [(e["code"], e["field"]) for e in data["grantRole"]["errors"]] == [("NOT_FOUND", field)]
    assert await row_counts() == before


async def test_revoking_a_role_not_held_is_not_found(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    await make_catalog()
    await people.user("dev@example.com", (Role.VIEWER, "shop", "*"))
    before = await row_counts()
    # Held on shop/*, not on shop/dev: bindings are matched exactly, not by coverage.
    data = await gql(REVOKE, grant_vars(), token=admin)
    assert data["revokeRole"]["deleted"] is False
    assert [e["code"] for e in data["revokeRole"]["errors"]] == ["NOT_FOUND"]
    unknown = await gql(REVOKE, grant_vars(email="who@example.com"), token=admin)
    assert [(e["code"], e["field"]) for e in unknown["revokeRole"]["errors"]] == [
        ("NOT_FOUND", "email")
    ]
    assert await row_counts() == before


@pytest.mark.parametrize(("name", "mutation"), [("grantRole", GRANT), ("revokeRole", REVOKE)])
async def test_only_super_admins_manage_roles(
    gql: GraphQLClient, people: People, name: str, mutation: str
) -> None:
    await make_catalog()
    token = await people.token("dev@example.com", *ALL_ROLES)
    await people.user("ops@example.com", (Role.VIEWER, "shop", "dev"))
    before = await row_counts()
    body = await gql.raw(mutation, grant_vars(email="ops@example.com"), token=token)
    assert refused(body, name) == "FORBIDDEN"
    # Not even on themselves.
    body = await gql.raw(mutation, grant_vars(role="BUILD_DEPLOY"), token=token)
    assert refused(body, name) == "FORBIDDEN"
    assert await row_counts() == before


async def test_me_lists_every_binding(gql: GraphQLClient, people: People) -> None:
    await make_catalog()
    token = await people.token(
        "dev@example.com", (Role.BUILD_DEPLOY, "shop", "dev"), (Role.VIEWER, "*", "*")
    )
    roles = (await gql(ME_ROLES, token=token))["me"]["roles"]
    assert sorted((r["role"], r["application"], r["environment"]) for r in roles) == [
        ("BUILD_DEPLOY", "shop", "dev"),
        ("VIEWER", "*", "*"),
    ]


async def test_bootstrap_brings_back_a_deactivated_admin(db: str) -> None:
    user, _ = await bootstrap_super_admin("root@example.com", "Root")
    await User.filter(id=user.id).update(active=False, super_admin=False)
    again, secret = await bootstrap_super_admin("root@example.com", None)
    assert again.id == user.id
    found = await authenticate(secret)
    assert found is not None and found.id == user.id and found.super_admin
