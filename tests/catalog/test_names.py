"""Application and environment names: 2-50 lowercase letters, digits and '-', unique (SPEC §1)."""

from __future__ import annotations

import pytest

from tests.support.catalog import row_counts
from tests.support.graphql import GraphQLClient

CREATE_APPLICATION = """
mutation($name: String!) {
  createApplication(name: $name) {
    application { id name workflows { name } } errors { code message field }
  }
}"""
CREATE_ENVIRONMENT = """
mutation($name: String!, $production: Boolean) {
  createEnvironment(name: $name, production: $production) {
    environment { id name production } errors { code message field }
  }
}"""

BAD_NAMES = ["a", "x" * 51, "Shop", "my_app", "my app", "shop\n", "émoji", "", "shop/prod", "*"]
GOOD_NAMES = ["ab", "x" * 50, "shop-2", "9-lives", "--"]


@pytest.mark.parametrize("name", GOOD_NAMES)
async def test_good_names_are_accepted(gql: GraphQLClient, admin: str, name: str) -> None:
    app = (await gql(CREATE_APPLICATION, {"name": name}, token=admin))["createApplication"]
    assert app["errors"] == []
    assert app["application"]["name"] == name
    assert app["application"]["workflows"] == []
    env = (await gql(CREATE_ENVIRONMENT, {"name": name, "production": True}, token=admin))[
        "createEnvironment"
    ]
    assert env["errors"] == []
    assert env["environment"]["name"] == name
    assert env["environment"]["production"] is True


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
async def test_bad_names_are_refused_naming_the_field(
    gql: GraphQLClient, admin: str, name: str
) -> None:
    before = await row_counts()
    for mutation, key, thing in (
        (CREATE_APPLICATION, "createApplication", "application"),
        (CREATE_ENVIRONMENT, "createEnvironment", "environment"),
    ):
        payload = (await gql(mutation, {"name": name}, token=admin))[key]
        assert payload[thing] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "name")]
        assert payload["errors"][0]["message"]
    assert await row_counts() == before


async def test_duplicate_names_conflict(gql: GraphQLClient, admin: str) -> None:
    await gql(CREATE_APPLICATION, {"name": "shop"}, token=admin)
    await gql(CREATE_ENVIRONMENT, {"name": "dev"}, token=admin)
    before = await row_counts()
    app = (await gql(CREATE_APPLICATION, {"name": "shop"}, token=admin))["createApplication"]
    env = (await gql(CREATE_ENVIRONMENT, {"name": "dev"}, token=admin))["createEnvironment"]
    for payload in (app, env):
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("CONFLICT", "name")]
    assert await row_counts() == before
    # Applications and environments are separate namespaces.
    other = (await gql(CREATE_ENVIRONMENT, {"name": "shop"}, token=admin))["createEnvironment"]
    assert other["errors"] == []


async def test_production_defaults_to_false(gql: GraphQLClient, admin: str) -> None:
    env = (await gql(CREATE_ENVIRONMENT, {"name": "dev"}, token=admin))["createEnvironment"]
    assert env["environment"]["production"] is False
