"""A small world for promotion tests: app `shop`, workflow dev → staging → prod, people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q

from app import clock
from app.accounts.access import SYSTEM
from app.accounts.models import Role
from app.catalog import service as catalog
from app.catalog.models import Stage, StageStatus
from app.db import unit_of_work
from app.ids import global_id
from app.outbox.models import OutboxJob
from app.outbox.service import run_job
from app.policies import service as policies
from app.promotions.models import PromotionRequest
from tests.conftest import People
from tests.support.graphql import GraphQLClient
from tests.support.ids import row

PROMOTE = """
mutation($image: ID!, $source: ImageSourceInput!, $targets: [String!]!, $comment: String) {
  promoteImage(imageId: $image, source: $source, targetEnvironments: $targets, comment: $comment) {
    results { environment outcome message request { id status } }
    errors { code message field }
  }
}"""

APPROVE = """
mutation($ids: [ID!]!, $comment: String) {
  approvePromotionRequests(requestIds: $ids, comment: $comment) {
    results { requestId outcome message request { id status } }
    errors { code message field }
  }
}"""

REJECT = """
mutation($ids: [ID!]!, $reason: String!) {
  rejectPromotionRequests(requestIds: $ids, reason: $reason) {
    results { requestId outcome message request { id status rejection { user { email } comment } } }
    errors { code message field }
  }
}"""

CANCEL = """
mutation($id: ID!) {
  cancelPromotionRequest(requestId: $id) { request { id status } errors { code message } }
}"""

CI = {"type": "CI"}


def results(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-item outcomes of a promote or decide payload the server did not refuse."""
    assert payload["errors"] == [], payload
    return list(payload["results"])


def request_row(result: dict[str, Any]) -> int:
    """The row id of the request in one promote or decide result (the API gives global ids)."""
    return row(result["request"]["id"], "PromotionRequest")


def env_source(name: str) -> dict[str, str]:
    return {"type": "ENVIRONMENT", "environment": name}


@dataclass
class World:
    gql: GraphQLClient
    people: People
    admin: str
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    async def user(self, name: str, *roles: tuple[Role, str, str]) -> str:
        user, token = await self.people.user(f"{name}@example.com", *roles)
        self.tokens[name], self.user_ids[name] = token, user.id
        return token

    async def image(
        self, tag: str = "1.0", built_by: str | None = "builder", labels: list[str] | None = None
    ) -> int:
        async with unit_of_work():
            image = await catalog.register_image(
                SYSTEM,
                "shop",
                "main",
                f"registry.example.com/shop:{tag}",
                None,
                labels or [],
                [catalog.GitCommitSpec("https://git.example.com/shop", "main")],
                f"{built_by}@example.com" if built_by else None,
            )
        return image.id

    async def pass_stages(self, image_id: int, environment: str) -> None:
        stages = {
            "dev": [Stage.DEPLOY],
            "staging": [Stage.PRE, Stage.DEPLOY],
            "prod": [Stage.DEPLOY],
        }[environment]
        async with unit_of_work():
            for stage in stages:
                await catalog.record_stage_result(
                    SYSTEM, image_id, environment, stage, StageStatus.SUCCEEDED
                )

    async def policy(self, name: str = "fast-lane", *targets: str, **values: Any) -> None:
        async with unit_of_work():
            await policies.create_policy(SYSTEM, policies.PolicyFields(name=name, **values))
            if targets:
                await policies.apply_policy(
                    SYSTEM, name, [policies.Pair("shop", t) for t in targets]
                )

    async def promote(
        self, token: str, image_id: int, targets: list[str], source: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        data = await self.gql(
            PROMOTE,
            {
                "image": global_id("Image", image_id),
                "source": source or CI,
                "targets": targets,
                "comment": "hotfix",
            },
            token=token,
        )
        return results(data["promoteImage"])

    async def decide(
        self, token: str, ids: list[int], reason: str | None = None
    ) -> list[dict[str, Any]]:
        request_ids = [global_id("PromotionRequest", i) for i in ids]
        if reason is None:
            data = await self.gql(APPROVE, {"ids": request_ids}, token=token)
            return results(data["approvePromotionRequests"])
        data = await self.gql(REJECT, {"ids": request_ids, "reason": reason}, token=token)
        return results(data["rejectPromotionRequests"])

    async def request_status(self, request_id: int) -> str:
        return (await PromotionRequest.get(id=request_id)).status.value


async def build_world(gql: GraphQLClient, people: People, admin: str, **prod: Any) -> World:
    """The world; `prod` holds CdPipelineSpec options of the prod pipeline."""
    async with unit_of_work():
        await catalog.create_application(SYSTEM, "shop")
        for name in ("dev", "staging", "prod"):
            await catalog.create_environment(SYSTEM, name, name == "prod")
        await catalog.create_workflow(
            SYSTEM,
            "shop",
            "main",
            "shop-ci",
            [
                catalog.CdPipelineSpec("dev"),
                catalog.CdPipelineSpec("staging", "dev", pre_stage=True),
                catalog.CdPipelineSpec("prod", "staging", **prod),
            ],
        )
    world = World(gql, people, admin)
    await world.user("builder", (Role.BUILD_DEPLOY, "shop", "*"))
    await world.user("dev", (Role.BUILD_DEPLOY, "shop", "*"))
    await world.user("approver", (Role.ARTIFACT_PROMOTER, "shop", "prod"))
    await world.user("approver2", (Role.ARTIFACT_PROMOTER, "*", "*"))
    await world.user("viewer", (Role.VIEWER, "shop", "*"))
    await world.user("gatekeeper", (Role.DEPLOYMENT_APPROVER, "shop", "prod"))
    await world.user("gatekeeper2", (Role.DEPLOYMENT_APPROVER, "shop", "*"))
    return world


async def drain() -> int:
    """Run every job due, as a worker would (the same function Celery tasks call), until
    none is left; a job whose handler failed waits for its backoff, so it is not rerun."""
    ran = 0
    while ids := await due_job_ids():
        for job_id in ids:
            ran += await run_job(job_id)
    return ran


async def due_job_ids() -> list[int]:
    """Jobs not done, not dead, and past their backoff, oldest first."""
    return (
        await OutboxJob.filter(
            Q(retry_at__isnull=True) | Q(retry_at__lte=clock.now()),
            done_at__isnull=True,
            dead_at__isnull=True,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
