"""A GraphQL client over real HTTP, and the story's set-up done through it."""

from __future__ import annotations

from typing import Any

import httpx


class Api:
    """Calls /graphql of a running server as one user."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def as_user(self, token: str) -> Api:
        return Api(self.url, token)

    def raw(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        # A connection per call: nothing to close, and loopback makes it cheap.
        return httpx.post(
            f"{self.url}/graphql",
            timeout=30,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.raw(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def user(self, email: str, *roles: tuple[str, str, str]) -> Api:
        """Create a user with roles; an Api acting as them."""
        self(
            """mutation($e: String!) { createUser(input: {email: $e, name: $e}) {
            errors { message } } }""",
            {"e": email},
        )
        for role, app, env in roles:
            data = self(
                """mutation($e: String!, $r: Role!, $a: String, $n: String) {
                grantRole(email: $e, role: $r, application: $a, environment: $n) {
                errors { message } } }""",
                {"e": email, "r": role, "a": app, "n": env},
            )
            assert data["grantRole"]["errors"] == []
        token = self(
            """mutation($e: String!) { createApiToken(name: "e2e", email: $e) {
            token errors { message } } }""",
            {"e": email},
        )["createApiToken"]["token"]
        return self.as_user(token)

    def catalog(
        self,
        *,
        approvals: int = 0,
        pipelines: list[dict[str, Any]] | None = None,
        policy: bool = True,
    ) -> None:
        """App `shop`, environments dev/staging/prod, workflow `main`, policy `lane` on prod."""
        self("""mutation { createApplication(name: "shop") { errors { message } }
            dev: createEnvironment(name: "dev") { errors { message } }
            staging: createEnvironment(name: "staging") { errors { message } }
            prod: createEnvironment(name: "prod", production: true) { errors { message } } }""")
        data = self(
            """mutation($p: [CdPipelineInput!]!) { createWorkflow(input: {
            application: "shop", name: "main", ciPipeline: "shop-ci", cdPipelines: $p }) {
            errors { message } } }""",
            {
                "p": pipelines
                or [
                    {"environment": "dev"},
                    {
                        "environment": "staging",
                        "parentEnvironment": "dev",
                        "preStage": True,
                        "postStage": True,
                    },
                    {"environment": "prod", "parentEnvironment": "staging"},
                ]
            },
        )
        assert data["createWorkflow"]["errors"] == []
        if not policy:
            return
        data = self(
            """mutation($n: Int!) {
            createPromotionPolicy(input: {name: "lane", approverCount: $n}) { errors { message } }
            applyPromotionPolicy(policy: "lane", applicationEnvironments:
              [{appName: "shop", envName: "prod"}]) { errors { message } } }""",
            {"n": approvals},
        )
        assert data["applyPromotionPolicy"]["errors"] == []

    def image(self, tag: str, built_by: str | None = None) -> str:
        data = self(
            """mutation($i: String!, $b: String) { registerImage(input: {
            application: "shop", workflow: "main", image: $i, builtBy: $b}) {
            image { id } errors { message } } }""",
            {"i": f"registry.example.com/shop:{tag}", "b": built_by},
        )
        return str(data["registerImage"]["image"]["id"])

    def promote(
        self, image: str, targets: list[str], source: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        data = self(
            """mutation($i: ID!, $s: ImageSourceInput!, $t: [String!]!) {
            promoteImage(imageId: $i, source: $s, targetEnvironments: $t, comment: "e2e") {
            results { environment outcome message request { id status } }
            errors { code message field } } }""",
            {"i": image, "s": source or {"type": "CI"}, "t": targets},
        )
        assert data["promoteImage"]["errors"] == [], data
        return data["promoteImage"]["results"]

    def request_status(self, request_id: str) -> str:
        data = self("query($id: ID!) { promotionRequest(id: $id) { status } }", {"id": request_id})
        return str(data["promotionRequest"]["status"])
