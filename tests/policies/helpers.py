"""GraphQL documents and set-up shared by the policy tests (all through the API)."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise

from tests.support.graphql import GraphQLClient

POLICY = """
  name description passCondition failCondition approverCount allowRequestFromApprove
  allowImageBuilderFromApprove allowApproverFromDeploy version bindings { appName envName }
"""
ERRORS = "errors { code message field }"

CREATE = f"""mutation($input: PromotionPolicyInput!) {{
  createPromotionPolicy(input: $input) {{ policy {{ {POLICY} }} {ERRORS} }}
}}"""
UPDATE = f"""mutation($name: String!, $input: PromotionPolicyPatch!) {{
  updatePromotionPolicy(name: $name, input: $input) {{ policy {{ {POLICY} }} {ERRORS} }}
}}"""
DELETE = f"""mutation($name: String!) {{
  deletePromotionPolicy(name: $name) {{ deleted {ERRORS} }}
}}"""
GET = f"""query($name: String!) {{ promotionPolicy(name: $name) {{ {POLICY} }} }}"""
LIST = f"{{ promotionPolicies {{ {POLICY} }} }}"
APPLY = f"""mutation($policy: String, $pairs: [AppEnvInput!]!) {{
  applyPromotionPolicy(policy: $policy, applicationEnvironments: $pairs) {{
    bindings {{ appName envName policy {{ name }} }} {ERRORS}
  }}
}}"""
APPLY_MANIFEST = f"""mutation($manifest: String!) {{
  applyPolicyManifest(manifest: $manifest) {{
    bindings {{ appName envName policy {{ name }} }} {ERRORS}
  }}
}}"""
BINDINGS = """query($application: String, $environment: String, $policy: String) {
  policyBindings(application: $application, environment: $environment, policy: $policy) {
    appName envName policy { name }
  }
}"""


async def make_catalog(gql: GraphQLClient, token: str) -> None:
    """app1 deploys to env-demo then prod; app2 to env-demo only; env qa has no pipeline."""
    data = await gql(
        """mutation {
          a1: createApplication(name: "app1") { errors { message } }
          a2: createApplication(name: "app2") { errors { message } }
          e1: createEnvironment(name: "env-demo") { errors { message } }
          e2: createEnvironment(name: "prod", production: true) { errors { message } }
          e3: createEnvironment(name: "qa") { errors { message } }
          w1: createWorkflow(input: {application: "app1", name: "main", ciPipeline: "ci1",
              cdPipelines: [{environment: "env-demo"},
                            {environment: "prod", parentEnvironment: "env-demo"}]})
              { errors { message } }
          w2: createWorkflow(input: {application: "app2", name: "main", ciPipeline: "ci2",
              cdPipelines: [{environment: "env-demo"}]}) { errors { message } }
        }""",
        token=token,
    )
    assert all(not result["errors"] for result in data.values()), data


async def create_policy(gql: GraphQLClient, token: str, name: str, **fields: Any) -> dict[str, Any]:
    payload = (await gql(CREATE, {"input": {"name": name, **fields}}, token=token))[
        "createPromotionPolicy"
    ]
    assert payload["errors"] == [], payload
    return payload["policy"]


async def apply(
    gql: GraphQLClient, token: str, policy: str | None, *pairs: tuple[str, str]
) -> dict[str, Any]:
    variables = {
        "policy": policy,
        "pairs": [{"appName": app, "envName": env} for app, env in pairs],
    }
    return (await gql(APPLY, variables, token=token))["applyPromotionPolicy"]


async def bindings(gql: GraphQLClient, token: str, **filters: str) -> set[tuple[str, str, str]]:
    rows = (await gql(BINDINGS, filters, token=token))["policyBindings"]
    return {(b["appName"], b["envName"], b["policy"]["name"]) for b in rows}


async def row_counts() -> dict[str, int]:
    """Rows in every table, to show that a refused operation wrote nothing (audit included)."""
    return {
        model._meta.db_table: await model.all().count() for model in Tortoise.apps["hoist"].values()
    }
