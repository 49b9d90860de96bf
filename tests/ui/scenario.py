"""The dashboard tests' world, made through the public GraphQL API over HTTP: app `shop`,
workflow dev → staging → prod, a policy needing one approval, people with roles, images."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.waiting import eventually

READY_WITHIN_SECONDS = 20.0  # the embedded worker, on a machine busy with other tests

RC_BLOCKER = '"rc" in imageLabels'


class Api:
    """A GraphQL client for one server; every call must succeed."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=15.0)

    def __call__(self, query: str, token: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        for payload in data.values():
            if isinstance(payload, dict):
                assert not payload.get("errors"), payload["errors"]
        return data

    def close(self) -> None:
        self.http.close()


@dataclass
class Shop:
    api: Api
    url: str
    admin: str
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # tag → id

    def person(self, key: str, name: str, *roles: tuple[str, str, str]) -> None:
        """A user with roles and an API token, kept under `key`."""
        email = f"{key}@example.com"
        self.api(
            "mutation($input: CreateUserInput!) { createUser(input: $input) "
            "{ user { id } errors { message } } }",
            self.admin,
            input={"email": email, "name": name},
        )
        for role, application, environment in roles:
            self.api(
                "mutation($e: String!, $r: Role!, $a: String!, $env: String!) { "
                "grantRole(email: $e, role: $r, application: $a, environment: $env) "
                "{ errors { message } } }",
                self.admin,
                e=email,
                r=role,
                a=application,
                env=environment,
            )
        created = self.api(
            'mutation($e: String!) { createApiToken(name: "dashboard", '
            "email: $e) { token apiToken { id } errors { message } } }",
            self.admin,
            e=email,
        )["createApiToken"]
        self.tokens[key], self.token_ids[key] = created["token"], created["apiToken"]["id"]

    def register(self, tag: str, labels: list[str], commit: str, message: str) -> None:
        image = self.api(
            "mutation($input: RegisterImageInput!) { registerImage(input: $input) "
            "{ image { id } errors { message } } }",
            self.tokens["dana"],
            input={
                "application": "shop",
                "workflow": "main",
                "image": f"registry.example.com/shop:{tag}",
                "labels": labels,
                "gitCommits": [
                    {
                        "repo": "https://git.example.com/shop",
                        "branch": "main",
                        "commitHash": commit,
                        "commitMessage": message,
                        "author": "Dana Developer",
                    }
                ],
            },
        )["registerImage"]["image"]
        self.images[tag] = image["id"]

    def request_status(self, request_id: str) -> str:
        return str(
            self.api(
                "query($id: ID!) { promotionRequest(id: $id) { status } }",
                self.admin,
                id=request_id,
            )["promotionRequest"]["status"]
        )

    def deployments(self, environment: str) -> list[dict[str, Any]]:
        data = self.api(
            'query($env: String!) { deploymentHistory(application: "shop", '
            "environment: $env, first: 20) { edges { node { status image { tag } } } } }",
            self.admin,
            env=environment,
        )
        return [e["node"] for e in data["deploymentHistory"]["edges"]]


def build_shop(url: str, admin: str) -> Shop:
    api = Api(url)
    shop = Shop(api, url, admin)
    api(
        """mutation {
      createApplication(name: "shop") { errors { message } }
      dev: createEnvironment(name: "dev") { errors { message } }
      staging: createEnvironment(name: "staging") { errors { message } }
      prod: createEnvironment(name: "prod", production: true) { errors { message } }
    }""",
        admin,
    )
    api(
        "mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) "
        "{ errors { message } } }",
        admin,
        input={
            "application": "shop",
            "name": "main",
            "ciPipeline": "shop-ci",
            "cdPipelines": [
                {"environment": "dev", "trigger": "AUTOMATIC", "filterFailCondition": RC_BLOCKER},
                {
                    "environment": "staging",
                    "parentEnvironment": "dev",
                    "preStage": True,
                    "deploymentApprovalCount": 1,
                },
                {"environment": "prod", "parentEnvironment": "staging"},
            ],
        },
    )
    api(
        "mutation($input: PromotionPolicyInput!) { createPromotionPolicy(input: $input) "
        "{ errors { message } } }",
        admin,
        input={
            "name": "prod-hotfix",
            "description": "Hotfixes straight to staging or prod",
            "failCondition": RC_BLOCKER,
            "approverCount": 1,
        },
    )
    api(
        'mutation { applyPromotionPolicy(policy: "prod-hotfix", applicationEnvironments: ['
        '{appName: "shop", envName: "staging"}, {appName: "shop", envName: "prod"}]) '
        "{ errors { message } } }",
        admin,
    )

    shop.person("dana", "Dana Developer", ("BUILD_DEPLOY", "shop", "*"))
    shop.person("avery", "Avery Approver", ("ARTIFACT_PROMOTER", "shop", "*"))
    shop.person("gale", "Gale Gatekeeper", ("DEPLOYMENT_APPROVER", "shop", "staging"))
    shop.person("sam", "Sam Signout", ("VIEWER", "shop", "*"))

    shop.register("1.4.0", ["stable"], "9f1c2ab4e1", "Checkout: retry card payments")
    shop.register("1.4.1", ["stable", "hotfix"], "c41d7e09aa", "Fix VAT rounding on invoices")
    # Its commit message has markup: the dashboard must show it as text.
    shop.register("1.5.0-rc1", ["rc"], "e0b93f5d12", "Try <b>new</b> search <img src=x>")
    # dev follows CI automatically; the rc image is held back by dev's filter condition.
    eventually(
        lambda: sum(d["status"] == "SUCCEEDED" for d in shop.deployments("dev")) == 2,
        "the automatic deployments to dev",
        READY_WITHIN_SECONDS,
    )
    return shop
