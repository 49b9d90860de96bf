"""Applying policies to (application, environment) pairs through the GraphQL API."""

from __future__ import annotations

from app.audit.models import AuditEvent
from tests.policies.helpers import APPLY, apply, bindings, create_policy, make_catalog, row_counts
from tests.support.graphql import GraphQLClient

PIPELINE_POLICIES = """query($app: String!) {
  application(name: $app) { workflows { cdPipelines { environment { name } policy { name } } } }
}"""


async def pipeline_policies(gql: GraphQLClient, token: str, app: str) -> dict[str, str | None]:
    application = (await gql(PIPELINE_POLICIES, {"app": app}, token=token))["application"]
    return {
        p["environment"]["name"]: (p["policy"] or {}).get("name")
        for w in application["workflows"]
        for p in w["cdPipelines"]
    }


async def setup(gql: GraphQLClient, admin: str) -> None:
    await make_catalog(gql, admin)
    await create_policy(gql, admin, "example-policy")
    await create_policy(gql, admin, "strict-policy", approverCount=2)


async def test_apply_binds_each_pair_to_one_policy(gql: GraphQLClient, admin: str) -> None:
    await setup(gql, admin)
    payload = await apply(gql, admin, "example-policy", ("app1", "env-demo"), ("app2", "env-demo"))
    assert payload["errors"] == []
    assert {(b["appName"], b["envName"], b["policy"]["name"]) for b in payload["bindings"]} == {
        ("app1", "env-demo", "example-policy"),
        ("app2", "env-demo", "example-policy"),
    }
    assert await pipeline_policies(gql, admin, "app1") == {
        "env-demo": "example-policy",
        "prod": None,
    }

    # Another policy replaces the first on the pair it names, and only there.
    payload = await apply(gql, admin, "strict-policy", ("app1", "env-demo"))
    assert payload["errors"] == []
    assert await bindings(gql, admin) == {
        ("app1", "env-demo", "strict-policy"),
        ("app2", "env-demo", "example-policy"),
    }
    assert await pipeline_policies(gql, admin, "app1") == {
        "env-demo": "strict-policy",
        "prod": None,
    }


async def test_reapplying_the_same_policy_changes_nothing(gql: GraphQLClient, admin: str) -> None:
    await setup(gql, admin)
    await apply(gql, admin, "example-policy", ("app1", "env-demo"))
    before = await row_counts()
    payload = await apply(gql, admin, "example-policy", ("app1", "env-demo"))
    assert payload["errors"] == []
    assert [(b["appName"], b["envName"]) for b in payload["bindings"]] == [("app1", "env-demo")]
    assert await row_counts() == before  # not even an audit event


async def test_null_policy_unapplies(gql: GraphQLClient, admin: str) -> None:
    await setup(gql, admin)
    await apply(gql, admin, "example-policy", ("app1", "env-demo"), ("app1", "prod"))
    payload = await apply(gql, admin, None, ("app1", "env-demo"))
    assert payload == {"bindings": [], "errors": []}
    assert await bindings(gql, admin) == {("app1", "prod", "example-policy")}
    assert await pipeline_policies(gql, admin, "app1") == {
        "env-demo": None,
        "prod": "example-policy",
    }
    # Un-applying a pair that has no policy changes nothing, and records nothing.
    before = await row_counts()
    assert (await apply(gql, admin, None, ("app2", "env-demo")))["errors"] == []
    assert await row_counts() == before


async def test_leaving_the_policy_out_is_refused(gql: GraphQLClient, admin: str) -> None:
    """Omitting `policy` is not taken as null: a forgetful script must not strip policies."""
    await setup(gql, admin)
    await apply(gql, admin, "example-policy", ("app1", "env-demo"))
    data = await gql(
        """mutation { applyPromotionPolicy(applicationEnvironments: [
             {appName: "app1", envName: "env-demo"}]) { errors { code field } } }""",
        token=admin,
    )
    assert data["applyPromotionPolicy"]["errors"] == [{"code": "VALIDATION", "field": "policy"}]
    assert await bindings(gql, admin) == {("app1", "env-demo", "example-policy")}


async def test_one_bad_pair_applies_nothing_and_every_bad_pair_is_listed(
    gql: GraphQLClient, admin: str
) -> None:
    await setup(gql, admin)
    await apply(gql, admin, "example-policy", ("app1", "env-demo"))
    before = await row_counts()
    payload = await apply(
        gql,
        admin,
        "strict-policy",
        ("app1", "env-demo"),  # fine, and would replace example-policy
        ("ghost", "env-demo"),  # unknown application
        ("app1", "nowhere"),  # unknown environment
        ("app2", "prod"),  # app2 has no CD pipeline in prod
        ("app1", "qa"),  # ...nor app1 in qa
        ("ghost", "void"),  # both unknown: both named
        ("app1", "prod"),  # fine
    )
    assert payload["bindings"] == []
    field = "applicationEnvironments"
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOT_FOUND", f"{field}[1].appName"),
        ("NOT_FOUND", f"{field}[2].envName"),
        ("VALIDATION", f"{field}[3].envName"),
        ("VALIDATION", f"{field}[4].envName"),
        ("NOT_FOUND", f"{field}[5].appName"),
        ("NOT_FOUND", f"{field}[5].envName"),
    ]
    messages = [e["message"] for e in payload["errors"]]
    assert "'ghost'" in messages[0] and "'nowhere'" in messages[1] and "prod" in messages[2]
    assert await row_counts() == before
    assert await bindings(gql, admin) == {("app1", "env-demo", "example-policy")}


async def test_error_indexes_are_the_callers_even_with_repeated_pairs(
    gql: GraphQLClient, admin: str
) -> None:
    await setup(gql, admin)
    payload = await apply(
        gql, admin, "example-policy", ("app1", "env-demo"), ("app1", "env-demo"), ("app2", "qa")
    )
    assert [e["field"] for e in payload["errors"]] == ["applicationEnvironments[2].envName"]
    # A repeated pair on its own is applied once.
    payload = await apply(gql, admin, "example-policy", ("app1", "env-demo"), ("app1", "env-demo"))
    assert [(b["appName"], b["envName"]) for b in payload["bindings"]] == [("app1", "env-demo")]
    assert await AuditEvent.filter(action="policy.applied").count() == 1


async def test_unknown_policy_and_empty_list_are_refused(gql: GraphQLClient, admin: str) -> None:
    await setup(gql, admin)
    payload = await apply(gql, admin, "no-such-policy", ("app1", "env-demo"), ("ghost", "prod"))
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOT_FOUND", "policy"),
        ("NOT_FOUND", "applicationEnvironments[1].appName"),
    ]
    payload = (await gql(APPLY, {"policy": "example-policy", "pairs": []}, token=admin))[
        "applyPromotionPolicy"
    ]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("VALIDATION", "applicationEnvironments")
    ]
    assert await bindings(gql, admin) == set()


async def test_policy_bindings_filter(gql: GraphQLClient, admin: str) -> None:
    await setup(gql, admin)
    await apply(gql, admin, "example-policy", ("app1", "env-demo"), ("app2", "env-demo"))
    await apply(gql, admin, "strict-policy", ("app1", "prod"))
    everything = {
        ("app1", "env-demo", "example-policy"),
        ("app2", "env-demo", "example-policy"),
        ("app1", "prod", "strict-policy"),
    }
    assert await bindings(gql, admin) == everything
    assert await bindings(gql, admin, application="app1") == {
        ("app1", "env-demo", "example-policy"),
        ("app1", "prod", "strict-policy"),
    }
    assert await bindings(gql, admin, environment="env-demo") == {
        ("app1", "env-demo", "example-policy"),
        ("app2", "env-demo", "example-policy"),
    }
    assert await bindings(gql, admin, policy="strict-policy") == {("app1", "prod", "strict-policy")}
    assert await bindings(gql, admin, application="app2", policy="strict-policy") == set()
    assert await bindings(gql, admin, application="ghost") == set()
