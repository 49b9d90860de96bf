"""Promotion policies through the GraphQL API: create, update, delete, read, field rules, access."""

from __future__ import annotations

from typing import Any

import pytest

from app.accounts.models import Role
from tests.conftest import People
from tests.policies.helpers import (
    APPLY,
    APPLY_MANIFEST,
    BINDINGS,
    CREATE,
    DELETE,
    GET,
    LIST,
    UPDATE,
    apply,
    create_policy,
    make_catalog,
    row_counts,
)
from tests.support.catalog import denied, refused
from tests.support.graphql import GraphQLClient


async def create_errors(gql: GraphQLClient, token: str, **fields: Any) -> list[dict[str, Any]]:
    payload = (await gql(CREATE, {"input": fields}, token=token))["createPromotionPolicy"]
    if payload["errors"]:
        assert payload["policy"] is None
    return payload["errors"]


async def update(gql: GraphQLClient, token: str, policy: str, **patch: Any) -> dict[str, Any]:
    return (await gql(UPDATE, {"name": policy, "input": patch}, token=token))[
        "updatePromotionPolicy"
    ]


async def get(gql: GraphQLClient, token: str, name: str) -> dict[str, Any] | None:
    return (await gql(GET, {"name": name}, token=token))["promotionPolicy"]


async def test_create_starts_at_version_1_with_defaults(gql: GraphQLClient, admin: str) -> None:
    created = await create_policy(
        gql,
        admin,
        "example-policy",
        description="hotfixes",
        passCondition='containerImageTag != ""',
    )
    assert created == {
        "name": "example-policy",
        "description": "hotfixes",
        "passCondition": 'containerImageTag != ""',
        "failCondition": None,
        "approverCount": 0,
        "allowRequestFromApprove": False,
        "allowImageBuilderFromApprove": False,
        "allowApproverFromDeploy": False,
        "version": 1,
        "bindings": [],
    }
    assert await get(gql, admin, "example-policy") == created


async def test_update_bumps_version_and_changes_only_what_is_set(
    gql: GraphQLClient, admin: str
) -> None:
    await create_policy(
        gql,
        admin,
        "example-policy",
        description="d",
        passCondition="true",
        failCondition='"rc" in imageLabels',
        approverCount=1,
    )
    payload = await update(
        gql,
        admin,
        "example-policy",
        name="renamed-policy",
        passCondition='containerImageTag.startsWith("v")',
        approverCount=2,
        allowRequestFromApprove=True,
    )
    assert payload["errors"] == []
    policy = payload["policy"]
    assert (policy["name"], policy["version"], policy["approverCount"]) == ("renamed-policy", 2, 2)
    assert policy["passCondition"] == 'containerImageTag.startsWith("v")'
    assert policy["failCondition"] == '"rc" in imageLabels'  # not in the patch: kept
    assert (policy["description"], policy["allowRequestFromApprove"]) == ("d", True)
    assert await get(gql, admin, "example-policy") is None
    assert await get(gql, admin, "renamed-policy") == policy

    # A condition set to "" is removed; every update is one more version.
    payload = await update(gql, admin, "renamed-policy", failCondition="")
    assert (payload["policy"]["failCondition"], payload["policy"]["version"]) == (None, 3)
    assert payload["policy"]["passCondition"] == 'containerImageTag.startsWith("v")'


async def test_update_validates_like_create_and_writes_nothing(
    gql: GraphQLClient, admin: str
) -> None:
    await create_policy(gql, admin, "example-policy", passCondition="true")
    await create_policy(gql, admin, "other-policy")
    before = await row_counts()
    payload = await update(
        gql, admin, "example-policy", passCondition="containerImageTag ==", approverCount=7
    )
    assert payload["policy"] is None
    assert {(e["code"], e["field"]) for e in payload["errors"]} == {
        ("INVALID_CONDITION", "passCondition"),
        ("VALIDATION", "approverCount"),
    }
    payload = await update(gql, admin, "example-policy", name="other-policy")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("CONFLICT", "name")]
    payload = await update(gql, admin, "example-policy", approverCount=None)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "approverCount")]
    payload = await update(gql, admin, "no-such-policy", approverCount=1)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "name")]
    policy = await get(gql, admin, "example-policy")
    assert policy is not None
    assert (policy["version"], policy["passCondition"]) == (1, "true")
    assert await row_counts() == before


async def test_delete_removes_the_policy_and_its_bindings(gql: GraphQLClient, admin: str) -> None:
    await make_catalog(gql, admin)
    await create_policy(gql, admin, "example-policy")
    assert (await apply(gql, admin, "example-policy", ("app1", "env-demo")))["errors"] == []
    payload = (await gql(DELETE, {"name": "example-policy"}, token=admin))["deletePromotionPolicy"]
    assert payload == {"deleted": True, "errors": []}
    assert await get(gql, admin, "example-policy") is None
    assert (await gql(BINDINGS, {}, token=admin))["policyBindings"] == []

    payload = (await gql(DELETE, {"name": "example-policy"}, token=admin))["deletePromotionPolicy"]
    assert payload["deleted"] is False
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "name")]


async def test_list_is_by_name_with_bindings(gql: GraphQLClient, admin: str) -> None:
    await make_catalog(gql, admin)
    for name in ("zeta-policy", "alpha-policy", "mid-policy"):
        await create_policy(gql, admin, name)
    await apply(gql, admin, "mid-policy", ("app1", "env-demo"), ("app2", "env-demo"))
    policies = (await gql(LIST, token=admin))["promotionPolicies"]
    assert [p["name"] for p in policies] == ["alpha-policy", "mid-policy", "zeta-policy"]
    assert {(b["appName"], b["envName"]) for b in policies[1]["bindings"]} == {
        ("app1", "env-demo"),
        ("app2", "env-demo"),
    }
    assert policies[0]["bindings"] == policies[2]["bindings"] == []


async def test_creating_a_taken_name_conflicts(gql: GraphQLClient, admin: str) -> None:
    await create_policy(gql, admin, "example-policy")
    errors = await create_errors(gql, admin, name="example-policy")
    assert [(e["code"], e["field"]) for e in errors] == [("CONFLICT", "name")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "ab"}, "name"),
        ({"name": "a" * 51}, "name"),
        ({"name": "Example-Policy"}, "name"),
        ({"name": "example_policy"}, "name"),
        ({"name": "example-policy\n"}, "name"),  # a regex `$` would let the newline through
        ({"name": "example-policy", "description": "x" * 301}, "description"),
        ({"name": "example-policy", "approverCount": -1}, "approverCount"),
        ({"name": "example-policy", "approverCount": 7}, "approverCount"),
    ],
)
async def test_field_rules(
    gql: GraphQLClient, admin: str, fields: dict[str, Any], field: str
) -> None:
    errors = await create_errors(gql, admin, **fields)
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", field)]
    assert (await gql(LIST, token=admin))["promotionPolicies"] == []


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "abc"},
        {"name": "a" * 50, "description": "x" * 300, "approverCount": 6},
        {"name": "p-0", "approverCount": 0},
    ],
)
async def test_field_limits_are_inclusive(
    gql: GraphQLClient, admin: str, fields: dict[str, Any]
) -> None:
    assert await create_errors(gql, admin, **fields) == []


async def test_every_bad_field_is_listed_at_once(gql: GraphQLClient, admin: str) -> None:
    errors = await create_errors(
        gql,
        admin,
        name="x",
        approverCount=9,
        passCondition="bogus",
        failCondition="containerImageTag",
    )
    assert {(e["code"], e["field"]) for e in errors} == {
        ("VALIDATION", "name"),
        ("VALIDATION", "approverCount"),
        ("INVALID_CONDITION", "passCondition"),
        ("INVALID_CONDITION", "failCondition"),
    }


async def test_bad_cel_names_the_field_and_where(gql: GraphQLClient, admin: str) -> None:
    [error] = await create_errors(
        gql, admin, name="example-policy", passCondition='containerImageTag == "v1" &&\n  )'
    )
    assert (error["code"], error["field"]) == ("INVALID_CONDITION", "passCondition")
    assert "passCondition" in error["message"]
    assert "line 2, column 3" in error["message"]

    [error] = await create_errors(
        gql, admin, name="example-policy", failCondition='imageTag == "latest"'
    )
    assert (error["code"], error["field"]) == ("INVALID_CONDITION", "failCondition")
    assert "unknown variable 'imageTag'" in error["message"]

    [error] = await create_errors(
        gql, admin, name="example-policy", passCondition="containerImageTag"
    )
    assert "boolean" in error["message"]
    assert (await gql(LIST, token=admin))["promotionPolicies"] == []


async def test_blank_conditions_are_stored_as_absent(gql: GraphQLClient, admin: str) -> None:
    created = await create_policy(
        gql, admin, "example-policy", passCondition="", failCondition="   "
    )
    assert (created["passCondition"], created["failCondition"]) == (None, None)


async def test_only_super_admins_manage_policies(
    gql: GraphQLClient, admin: str, people: People
) -> None:
    await make_catalog(gql, admin)
    await create_policy(gql, admin, "example-policy")
    # Every role on everything, but not a super-admin.
    token = await people.token("dev@example.com", *[(role, "*", "*") for role in Role])
    before = await row_counts()
    pairs = [{"appName": "app1", "envName": "env-demo"}]
    manifest = (
        "apiVersion: v1\nkind: artifactPromotionPolicy\nspec:\n  payload:\n"
        "    applyToPolicyName: example-policy\n"
        "    applicationEnvironments: [{appName: app1, envName: env-demo}]\n"
    )
    mutations: list[tuple[str, str, dict[str, Any]]] = [
        ("createPromotionPolicy", CREATE, {"input": {"name": "new-policy"}}),
        (
            "updatePromotionPolicy",
            UPDATE,
            {"name": "example-policy", "input": {"approverCount": 2}},
        ),
        ("deletePromotionPolicy", DELETE, {"name": "example-policy"}),
        ("applyPromotionPolicy", APPLY, {"policy": "example-policy", "pairs": pairs}),
        ("applyPromotionPolicy", APPLY, {"policy": None, "pairs": pairs}),
        ("applyPolicyManifest", APPLY_MANIFEST, {"manifest": manifest}),
    ]
    for name, document, variables in mutations:
        # A mutation answers the missing right in its payload; no token is still top-level.
        assert refused(await gql.raw(document, variables, token=token), name) == "FORBIDDEN"
        assert denied(await gql.raw(document, variables), name) == "UNAUTHENTICATED"
    queries: list[tuple[str, dict[str, Any]]] = [
        (LIST, {}),
        (GET, {"name": "example-policy"}),
        (BINDINGS, {}),
    ]
    for document, variables in queries:
        body = await gql.raw(document, variables, token=token)
        assert not any((body["data"] or {}).values()), body  # no data for the field
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
        assert await gql.error_code(document, variables) == "UNAUTHENTICATED"
    assert await row_counts() == before
