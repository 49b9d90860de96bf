"""Every audited action, done through the API, leaves its audit event: action, actor,
application, environment and details (SPEC §8).

ACTIONS is the table: one row or more per action the app records. Each row sets the scene
(through the services: quick, and not what is measured), then does the action itself as a
user would, through GraphQL; the only exceptions are what no user does through GraphQL
(the command line's bootstrap, the worker's jobs), done the way the CLI or worker does.
The test then asks `auditLog` for the events of that action that the step added: exactly
one, with the expected fields.

test_table_covers_every_action_the_app_records reads app/ for every `record(...)` call
and fails for an action without a row, so a new audited action needs its test.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from app import clock
from app.accounts.service import bootstrap_super_admin
from app.db import unit_of_work
from app.deployments.models import DeploymentStatus
from app.ids import global_id
from app.notifications.models import Notification, NotificationState
from app.outbox.models import OutboxJob
from app.outbox.service import run_sweeps
from app.promotions.expiry import expire_due
from app.promotions.models import PromotionRequest, PromotionStatus
from app.webhooks.models import WebhookDelivery
from tests.conftest import People
from tests.notifications.helpers import configure
from tests.promotions.world import World, build_world, drain, request_row
from tests.supplychain.kit import (
    ATTACH,
    CREATE_KEY,
    SAMPLE_DIGEST,
    Signer,
    image_with_digest,
    sample,
)
from tests.support.graphql import GraphQLClient
from tests.support.ids import row as row_of

APP_DIR = Path(__file__).resolve().parents[2] / "app"

AUDIT = """query($action: String!) { auditLog(action: $action, first: 100) {
  edges { node { id action application environment data actor { email } } } } }"""


@dataclass(frozen=True)
class Expected:
    """What the action's one new audit event must hold."""

    actor: str | None  # the caller's email; None when Hoist itself acted
    application: str | None = None
    environment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # a subset of the event's details


class Scene:
    """The promotion world plus the GraphQL steps the rows take."""

    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        self.world = world
        self.monkeypatch = monkeypatch  # for rows that change a setting for the test

    def token(self, name: str) -> str:
        return self.world.admin if name == "admin" else self.world.tokens[name]

    async def mutate(
        self, who: str, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The one mutation's payload, which must have no errors."""
        data = await self.world.gql(document, variables or {}, token=self.token(who))
        [payload] = data.values()
        assert payload.get("errors", []) == [], payload
        return payload

    async def register(
        self,
        who: str = "builder",
        tag: str = "2.0",
        application: str = "shop",
        workflow: str = "main",
    ) -> int:
        payload = await self.mutate(
            who,
            """mutation($input: RegisterImageInput!) {
          registerImage(input: $input) { image { id } errors { code message } } }""",
            {
                "input": {
                    "application": application,
                    "workflow": workflow,
                    "image": f"registry.example.com/shop:{tag}",
                }
            },
        )
        return row_of(payload["image"]["id"], "Image")

    async def stage(self, who: str, image: int, environment: str, stage: str, status: str) -> None:
        await self.mutate(
            who,
            """mutation($input: StageResultInput!) {
          recordStageResult(input: $input) { stageRun { id } errors { code message } } }""",
            {
                "input": {
                    "imageId": global_id("Image", image),
                    "environment": environment,
                    "stage": stage,
                    "status": status,
                }
            },
        )

    async def promote(self, who: str, image: int, target: str = "prod") -> int:
        [result] = await self.world.promote(self.token(who), image, [target])
        assert result["request"] is not None, result
        return request_row(result)

    async def approve(self, who: str, request: int, comment: str | None = None) -> None:
        data = await self.world.gql(
            """mutation($ids: [ID!]!, $comment: String) {
          approvePromotionRequests(requestIds: $ids, comment: $comment) {
            results { outcome message } } }""",
            {"ids": [global_id("PromotionRequest", request)], "comment": comment},
            token=self.token(who),
        )
        [result] = data["approvePromotionRequests"]["results"]
        assert result["outcome"] in ("APPROVED", "PROMOTING"), result

    async def policy(self, approvers: int = 0) -> None:
        await self.world.policy("lane", "prod", approver_count=approvers)

    async def promoted_to_prod(self) -> tuple[int, int]:
        await self.policy()
        image = await self.world.image()
        request = await self.promote("dev", image)
        await drain()
        assert await self.world.request_status(request) == "PROMOTED"
        return image, request

    async def deploy(self, who: str, image: int, environment: str = "prod") -> int:
        payload = await self.mutate(
            who,
            """mutation($env: String!, $image: ID!) {
          deployImage(application: "shop", environment: $env, imageId: $image) {
            deployment { id } errors { code message } } }""",
            {"env": environment, "image": global_id("Image", image)},
        )
        return row_of(payload["deployment"]["id"], "Deployment")


# Each row's function gets the scene and an awaitable `mark`: everything audited before
# `await mark()` is the scene, the step after it is the action under test.
Row = Callable[[Scene, Callable[[], Awaitable[None]]], Awaitable[Expected]]
ACTIONS: list[tuple[str, str, Row, dict[str, Any]]] = []


def row(action: str, label: str = "", **world: Any) -> Callable[[Row], Row]:
    def register(function: Row) -> Row:
        ACTIONS.append((action, label or function.__name__, function, world))
        return function

    return register


# --- accounts -------------------------------------------------------------------------


@row("user.created")
async def create_user(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await s.mutate(
        "admin",
        """mutation { createUser(input: {email: "new@example.com",
      name: "New", superAdmin: true}) { user { id } errors { code message } } }""",
    )
    return Expected("admin@example.com", data={"user": "new@example.com", "super_admin": True})


@row("user.promoted_to_super_admin")
async def bootstrap_existing_user(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    # `hoist admin bootstrap` (the CLI, not GraphQL) makes an existing user a super-admin.
    async with unit_of_work():
        await bootstrap_super_admin("viewer@example.com", None)
    return Expected(None, data={"user": "viewer@example.com"})


@row("role.granted")
async def grant_role(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await s.mutate(
        "admin",
        """mutation { grantRole(email: "viewer@example.com",
      role: BUILD_DEPLOY, application: "shop", environment: "dev") {
      roleBinding { role } errors { code message } } }""",
    )
    return Expected(
        "admin@example.com", "shop", "dev", {"user": "viewer@example.com", "role": "BUILD_DEPLOY"}
    )


@row("role.revoked")
async def revoke_role(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await s.mutate(
        "admin",
        """mutation { revokeRole(email: "viewer@example.com",
      role: VIEWER, application: "shop", environment: "*") {
      deleted errors { code message } } }""",
    )
    return Expected(
        "admin@example.com", "shop", "*", {"user": "viewer@example.com", "role": "VIEWER"}
    )


@row("token.created")
async def create_token(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    payload = await s.mutate(
        "viewer",
        """mutation { createApiToken(name: "laptop") {
      apiToken { id } token errors { code message } } }""",
    )
    return Expected(
        "viewer@example.com",
        data={
            "user": "viewer@example.com",
            "name": "laptop",
            "token_id": row_of(payload["apiToken"]["id"], "ApiToken"),
        },
    )


@row("token.revoked")
async def revoke_token(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    payload = await s.mutate(
        "viewer",
        """mutation { createApiToken(name: "old") {
      apiToken { id } errors { code message } } }""",
    )
    token_id = payload["apiToken"]["id"]
    await mark()
    await s.mutate(
        "viewer",
        """mutation($id: ID!) { revokeApiToken(id: $id) {
      deleted errors { code message } } }""",
        {"id": token_id},
    )
    return Expected("viewer@example.com", data={"token_id": row_of(token_id, "ApiToken")})


# --- catalog --------------------------------------------------------------------------


@row("application.created")
async def create_application(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await s.mutate(
        "admin",
        """mutation { createApplication(name: "billing") {
      application { id } errors { code message } } }""",
    )
    return Expected("admin@example.com", "billing")


@row("environment.created")
async def create_environment(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await s.mutate(
        "admin",
        """mutation { createEnvironment(name: "eu-prod", production: true) {
      environment { id } errors { code message } } }""",
    )
    return Expected("admin@example.com", environment="eu-prod", data={"production": True})


@row("workflow.created")
async def create_workflow(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.mutate(
        "admin", 'mutation { createApplication(name: "billing") { errors { code message } } }'
    )
    await mark()
    await s.mutate(
        "admin",
        """mutation { createWorkflow(input: {application: "billing",
      name: "main", ciPipeline: "billing-ci", cdPipelines: [
        {environment: "staging"}, {environment: "prod", parentEnvironment: "staging"}]}) {
      workflow { id } errors { code message } } }""",
    )
    return Expected(
        "admin@example.com",
        "billing",
        data={"workflow": "main", "cd_pipelines": ["staging", "prod"]},
    )


@row("cd_pipeline.git_target_set")
async def set_git_target(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await s.mutate(
        "admin",
        """mutation { setGitTarget(application: "shop", environment: "prod", gitTarget: {
      repository: "https://git.example.com/shop/deploy.git", branch: "main",
      path: "prod/kustomization.yaml", edit: KUSTOMIZE, image: "shop", credential: "gitops"})
      { cdPipeline { id } errors { code message } } }""",
    )
    return Expected(
        "admin@example.com",
        "shop",
        "prod",
        data={
            "git_target": {
                "repository": "https://git.example.com/shop/deploy.git",
                "branch": "main",
                "path": "prod/kustomization.yaml",
                "edit": "KUSTOMIZE",
                "image": "shop",
                "key": None,
                "container": None,
                "credential": "gitops",
            }
        },
    )


@row("image.registered")
async def register_image(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    image = await s.register("builder", "3.1")
    return Expected(
        "builder@example.com",
        "shop",
        data={"image_id": image, "image": "registry.example.com/shop:3.1", "workflow": "main"},
    )


@row("stage.reported")
async def report_stage(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    image = await s.world.image()
    await mark()
    await s.stage("builder", image, "staging", "PRE", "SUCCEEDED")
    return Expected(
        "builder@example.com",
        "shop",
        "staging",
        {"image_id": image, "stage": "PRE", "status": "SUCCEEDED"},
    )


# --- policies -------------------------------------------------------------------------

POLICY_INPUT = """mutation { createPromotionPolicy(input: {name: "careful", approverCount: 2,
  passCondition: "true"}) { policy { name } errors { code message } } }"""


@row("policy.created")
async def create_policy(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await s.mutate("admin", POLICY_INPUT)
    return Expected(
        "admin@example.com", data={"policy": "careful", "version": 1, "approver_count": 2}
    )


@row("policy.updated")
async def update_policy(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.mutate("admin", POLICY_INPUT)
    await mark()
    await s.mutate(
        "admin",
        """mutation { updatePromotionPolicy(name: "careful",
      input: {name: "very-careful", approverCount: 3}) {
      policy { name } errors { code message } } }""",
    )
    return Expected(
        "admin@example.com",
        data={
            "policy": "very-careful",
            "previous_name": "careful",
            "version": 2,
            "approver_count": 3,
        },
    )


@row("policy.deleted")
async def delete_policy(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.mutate("admin", POLICY_INPUT)
    await mark()
    await s.mutate(
        "admin",
        """mutation { deletePromotionPolicy(name: "careful") {
      deleted errors { code message } } }""",
    )
    return Expected("admin@example.com", data={"policy": "careful"})


@row("policy.applied")
async def apply_policy(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.mutate("admin", POLICY_INPUT)
    await mark()
    await s.mutate(
        "admin",
        """mutation { applyPromotionPolicy(policy: "careful",
      applicationEnvironments: [{appName: "shop", envName: "staging"}]) {
      bindings { policy { name } } errors { code message } } }""",
    )
    return Expected("admin@example.com", "shop", "staging", {"policy": "careful"})


@row("policy.unapplied")
async def unapply_policy(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.world.policy("careful", "staging")
    await mark()
    await s.mutate(
        "admin",
        """mutation { applyPromotionPolicy(policy: null,
      applicationEnvironments: [{appName: "shop", envName: "staging"}]) {
      errors { code message } } }""",
    )
    return Expected("admin@example.com", "shop", "staging", {"policy": None})


# --- promotions -----------------------------------------------------------------------


@row("promotion.requested")
async def request_promotion(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=1)
    image = await s.world.image()
    await mark()
    request = await s.promote("dev", image)
    return Expected(
        "dev@example.com",
        "shop",
        "prod",
        {
            "request_id": request,
            "image_id": image,
            "source": "CI",
            "policy": "lane",
            "policy_version": 1,
            "status": "AWAITING_APPROVAL",
        },
    )


@row("promotion.approved")
async def approve_promotion(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=2)
    request = await s.promote("dev", await s.world.image())
    await mark()
    await s.approve("approver", request, "looks good")
    return Expected(
        "approver@example.com", "shop", "prod", {"request_id": request, "comment": "looks good"}
    )


@row("promotion.promoting")
async def last_approval_starts_promoting(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=1)
    request = await s.promote("dev", await s.world.image())
    await mark()
    await s.approve("approver", request)
    return Expected(
        "approver@example.com",
        "shop",
        "prod",
        {"request_id": request, "previous": "AWAITING_APPROVAL"},
    )


@row("promotion.promoted")
async def promote_job_promotes(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy()
    request = await s.promote("dev", await s.world.image())
    await mark()
    await drain()  # the worker's promote job (no user does this through GraphQL)
    return Expected(None, "shop", "prod", {"request_id": request, "previous": "PROMOTING"})


@row("promotion.rejected")
async def reject_promotion(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=1)
    request = await s.promote("dev", await s.world.image())
    await mark()
    await s.world.decide(s.token("approver"), [request], reason="not today")
    return Expected(
        "approver@example.com",
        "shop",
        "prod",
        {"request_id": request, "previous": "AWAITING_APPROVAL"},
    )


@row("promotion.cancelled")
async def cancel_promotion(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=1)
    request = await s.promote("dev", await s.world.image())
    await mark()
    await s.mutate(
        "dev",
        """mutation($id: ID!) { cancelPromotionRequest(requestId: $id) {
      request { status } errors { code message } } }""",
        {"id": global_id("PromotionRequest", request)},
    )
    return Expected(
        "dev@example.com", "shop", "prod", {"request_id": request, "previous": "AWAITING_APPROVAL"}
    )


@row("promotion.stale")
async def policy_change_makes_stale(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=1)
    request = await s.promote("dev", await s.world.image())
    await mark()
    await s.mutate(
        "admin",
        """mutation { updatePromotionPolicy(name: "lane",
      input: {passCondition: "containerImageTag == \\"9.9\\""}) {
      policy { version } errors { code message } } }""",
    )
    row_ = await PromotionRequest.get(id=request)
    assert row_.status == PromotionStatus.STALE
    return Expected(
        "admin@example.com",
        "shop",
        "prod",
        {"request_id": request, "previous": "AWAITING_APPROVAL", "reason": row_.stale_reason},
    )


# --- promotion windows ----------------------------------------------------------------

WINDOW_INPUT = """mutation($start: String!, $end: String!) { createPromotionWindow(input: {
  name: "freeze", kind: DENY, timeZone: "UTC", dateRanges: [{start: $start, end: $end}]}) {
  window { name } errors { code message } } }"""
APPLY_WINDOW = """mutation($remove: Boolean) { applyPromotionWindow(window: "freeze",
  applicationEnvironments: [{appName: "shop", envName: "prod"}], remove: $remove) {
  bindings { envName } errors { code message } } }"""


def _local(instant: datetime) -> str:
    return instant.replace(tzinfo=None).isoformat(timespec="seconds")


async def _freeze(s: Scene, applied: bool = True) -> None:
    """A DENY window on shop/prod from an hour ago to a day from now (the real time)."""
    now = datetime.now(UTC)
    await s.mutate(
        "admin",
        WINDOW_INPUT,
        {"start": _local(now - timedelta(hours=1)), "end": _local(now + timedelta(days=1))},
    )
    if applied:
        await s.mutate("admin", APPLY_WINDOW)


@row("window.created")
async def create_window(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await _freeze(s, applied=False)
    return Expected("admin@example.com", data={"window": "freeze", "kind": "DENY"})


@row("window.updated")
async def update_window(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _freeze(s, applied=False)
    await mark()
    await s.mutate(
        "admin",
        """mutation { updatePromotionWindow(name: "freeze", input: {name: "long-freeze",
      timeZone: "Europe/Paris"}) { window { name } errors { code message } } }""",
    )
    return Expected(
        "admin@example.com",
        data={"window": "long-freeze", "previous_name": "freeze", "time_zone": "Europe/Paris"},
    )


@row("window.deleted")
async def delete_window(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _freeze(s, applied=False)
    await mark()
    await s.mutate(
        "admin",
        """mutation { deletePromotionWindow(name: "freeze") {
      deleted errors { code message } } }""",
    )
    return Expected("admin@example.com", data={"window": "freeze"})


@row("window.applied")
async def apply_window(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _freeze(s, applied=False)
    await mark()
    await s.mutate("admin", APPLY_WINDOW)
    return Expected("admin@example.com", "shop", "prod", {"window": "freeze"})


@row("window.unapplied")
async def unapply_window(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _freeze(s)
    await mark()
    await s.mutate("admin", APPLY_WINDOW, {"remove": True})
    return Expected("admin@example.com", "shop", "prod", {"window": "freeze"})


@row("promotion.queued")
async def quorum_while_closed(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=1)
    await _freeze(s)
    request = await s.promote("dev", await s.world.image())
    await mark()
    data = await s.world.gql(
        """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids) {
      results { outcome } } }""",
        {"ids": [global_id("PromotionRequest", request)]},
        token=s.token("approver"),
    )
    assert data["approvePromotionRequests"]["results"] == [{"outcome": "QUEUED"}]
    return Expected(
        "approver@example.com",
        "shop",
        "prod",
        {"request_id": request, "previous": "AWAITING_APPROVAL"},
    )


@row("promotion.break_glass")
async def break_glass(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.world.policy("lane", "prod", break_glass_approver_count=0)
    await _freeze(s)
    image = await s.world.image()
    await mark()
    payload = await s.mutate(
        "dev",
        """mutation($image: ID!) { promoteImage(imageId: $image, source: {type: CI},
      targetEnvironments: ["prod"], breakGlass: {reason: "payments are down"}) {
      results { outcome request { id } } errors { code message } } }""",
        {"image": global_id("Image", image)},
    )
    [result] = payload["results"]
    assert result["outcome"] == "PROMOTING", result
    return Expected(
        "dev@example.com",
        "shop",
        "prod",
        {
            "request_id": request_row(result),
            "reason": "payments are down",
            "closed_by": ["freeze"],
        },
    )


@row("promotion.expired")
async def time_limit_expires_request(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.world.policy("lane", "prod", approver_count=1, request_timeout_seconds=3600)
    request = await s.promote("dev", await s.world.image())
    await mark()
    # The periodic worker's sweep, after the request's hour ran out.
    later = clock.now() + timedelta(hours=1, minutes=1)
    s.monkeypatch.setattr(clock, "_source", lambda: later)
    assert await expire_due() == 1
    return Expected(None, "shop", "prod", {"request_id": request, "previous": "AWAITING_APPROVAL"})


# --- deployments ----------------------------------------------------------------------


@row("deployment.approved", deployment_approval_count=1)
async def approve_deployment(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    image, _ = await s.promoted_to_prod()
    await mark()
    await s.mutate(
        "gatekeeper",
        """mutation($i: ID!) { approveDeployment(application: "shop",
      environment: "prod", imageId: $i) { approved errors { code message } } }""",
        {"i": global_id("Image", image)},
    )
    return Expected("gatekeeper@example.com", "shop", "prod", {"image_id": image})


@row("deployment.created")
async def deploy_image(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    image, request = await s.promoted_to_prod()
    await mark()
    deployment = await s.deploy("dev", image)
    return Expected(
        "dev@example.com",
        "shop",
        "prod",
        {"deployment_id": deployment, "image_id": image, "promotion_request_id": request},
    )


@row("deployment.auto_blocked")
async def automatic_deploy_blocked(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    # An AUTOMATIC pipeline that needs a deployment approval cannot deploy a new image.
    await s.mutate(
        "admin", 'mutation { createApplication(name: "gate") { errors { code message } } }'
    )
    await s.mutate(
        "admin",
        """mutation { createWorkflow(input: {application: "gate",
      name: "main", ciPipeline: "gate-ci", cdPipelines: [{environment: "dev",
      trigger: AUTOMATIC, deploymentApprovalCount: 1}]}) { workflow { id } errors { code
      message } } }""",
    )
    await mark()
    image = await s.register("admin", "4.0", application="gate")
    events = await audit_events("deployment.auto_blocked", s)
    reason = json.loads(events[0]["data"])["reason"]
    assert "approval" in reason, reason
    return Expected(None, "gate", "dev", {"image_id": image, "reason": reason})


@row("deployment.running", post_stage=True)
async def first_stage_runs_the_deployment(
    s: Scene, mark: Callable[[], Awaitable[None]]
) -> Expected:
    image, _ = await s.promoted_to_prod()
    deployment = await s.deploy("dev", image)  # QUEUED: no executor ran
    await mark()
    await s.stage("builder", image, "prod", "DEPLOY", "SUCCEEDED")
    return Expected(None, "shop", data={"deployment_id": deployment})


@row("deployment.succeeded")
async def last_stage_succeeds(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    image, _ = await s.promoted_to_prod()
    deployment = await s.deploy("dev", image)
    await mark()
    await s.stage("builder", image, "prod", "DEPLOY", "SUCCEEDED")
    return Expected(None, "shop", data={"deployment_id": deployment})


@row("deployment.failed", "a stage fails")
async def stage_fails(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    image, _ = await s.promoted_to_prod()
    deployment = await s.deploy("dev", image)
    await mark()
    await s.stage("builder", image, "prod", "DEPLOY", "FAILED")
    return Expected(None, "shop", data={"deployment_id": deployment})


@row("deployment.failed", "the executor fails")
async def executor_fails(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    configure(
        s.monkeypatch,
        deploy_executor="webhook",
        deploy_webhook_url=None,
        deploy_webhook_secret=None,
    )
    image, _ = await s.promoted_to_prod()
    deployment = await s.deploy("dev", image)
    await mark()
    await drain()  # the worker's executor job, with a webhook executor it can't run
    return Expected(
        None,
        "shop",
        data={
            "deployment_id": deployment,
            "error": (
                "HOIST_DEPLOY_WEBHOOK_URL and HOIST_DEPLOY_WEBHOOK_SECRET must be set for the "
                "webhook executor"
            ),
        },
    )


@row("deployment.rolled_back")
async def roll_back(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    first, _ = await s.promoted_to_prod()
    earlier = await s.deploy("dev", first)
    await drain()  # the noop executor: SUCCEEDED
    second = await s.world.image("3.0")
    await s.world.pass_stages(second, "staging")
    replaced = await s.deploy("dev", second)
    await drain()
    await mark()
    payload = await s.mutate(
        "builder",
        """mutation($i: ID!) { rollbackDeployment(application: "shop", environment: "prod",
      toImage: $i) { deployment { id } errors { code message } } }""",
        {"i": global_id("Image", first)},
    )
    deployment = row_of(payload["deployment"]["id"], "Deployment")
    assert earlier != deployment
    return Expected(
        "builder@example.com",
        "shop",
        "prod",
        {
            "deployment_id": deployment,
            "replaced_deployment_id": replaced,
            "image_id": first,
            "replaced_image_id": second,
        },
    )


# --- notifications and worker jobs ----------------------------------------------------


@row("notification.resent")
async def resend_failed_email(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy(approvers=1)
    await s.promote("dev", await s.world.image())  # emails the approvers
    email = await Notification.filter(recipient="approver@example.com").first()
    assert email is not None
    # The scene: its delivery gave up (what a worker records after the last attempt).
    await Notification.filter(id=email.id).update(
        state=NotificationState.FAILED, error="550 mailbox unavailable"
    )
    await mark()
    await s.mutate(
        "admin",
        """mutation($ids: [ID!]!) { resendNotifications(ids: $ids) {
      errors { code message } } }""",
        {"ids": [global_id("Notification", email.id)]},
    )
    return Expected(
        "admin@example.com",
        data={
            "notification_id": email.id,
            "recipient": "approver@example.com",
            "previous_state": "FAILED",
            "previous_error": "550 mailbox unavailable",
        },
    )


@row("outbox.job_retried")
async def retry_dead_job(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await s.policy()
    await s.promote("dev", await s.world.image())  # writes the promote job
    job = await OutboxJob.get(task="promotions.promote")
    # The scene: the job gave up (what the relay records after the last attempt).
    await OutboxJob.filter(id=job.id).update(
        dead_at=datetime.now(UTC), attempts=5, last_error="RuntimeError: boom"
    )
    await mark()
    await s.mutate(
        "admin",
        """mutation($id: ID!) { retryOutboxJob(id: $id) {
      errors { code message } } }""",
        {"id": global_id("OutboxJob", job.id)},
    )
    return Expected(
        "admin@example.com",
        data={
            "job_id": job.id,
            "task": "promotions.promote",
            "attempts": 5,
            "last_error": "RuntimeError: boom",
        },
    )


# --- webhooks -------------------------------------------------------------------------

# Nothing listens there: a try is refused at once.
HOOK_URL = "http://127.0.0.1:9/hook"
CREATE_HOOK = """mutation { createWebhookEndpoint(input: {name: "ci-bot",
  url: "http://127.0.0.1:9/hook", eventTypes: ["dev.hoist.promotion.promoted"]}) {
  endpoint { id } errors { code message } } }"""


async def _hook(s: Scene, **settings: Any) -> None:
    configure(s.monkeypatch, webhook_allow_private=True, **settings)
    await s.mutate("admin", CREATE_HOOK)


@row("webhook.created")
async def create_webhook(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    configure(s.monkeypatch, webhook_allow_private=True)
    await mark()
    await s.mutate("admin", CREATE_HOOK)
    return Expected("admin@example.com", data={"endpoint": "ci-bot", "url": HOOK_URL})


@row("webhook.updated")
async def update_webhook(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _hook(s)
    await mark()
    await s.mutate(
        "admin",
        """mutation { updateWebhookEndpoint(name: "ci-bot",
      input: {active: false, rotateSecret: true}) { secret errors { code message } } }""",
    )
    return Expected(
        "admin@example.com",
        data={"endpoint": "ci-bot", "changed": ["active"], "secret_rotated": True},
    )


@row("webhook.deleted")
async def delete_webhook(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _hook(s)
    await mark()
    await s.mutate(
        "admin",
        'mutation { deleteWebhookEndpoint(name: "ci-bot") { deleted errors { code message } } }',
    )
    return Expected("admin@example.com", data={"endpoint": "ci-bot"})


@row("webhook.disabled")
async def webhook_fails_in_a_row(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _hook(s, webhook_disable_after=1)
    await s.promoted_to_prod()
    await mark()
    await run_sweeps()  # the worker's try: refused, the first failure is the limit
    return Expected(
        None,
        data={"endpoint": "ci-bot", "reason": "switched off after 1 failed tries in a row"},
    )


@row("webhook.redelivered")
async def redeliver_webhook(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _hook(s, webhook_max_attempts=1)
    await s.promoted_to_prod()
    await run_sweeps()  # the one try fails: FAILED
    delivery = await WebhookDelivery.get()
    await mark()
    await s.mutate(
        "admin",
        """mutation($ids: [ID!]!) { redeliverWebhooks(ids: $ids) {
      errors { code message } } }""",
        {"ids": [global_id("WebhookDelivery", delivery.id)]},
    )
    return Expected(
        "admin@example.com",
        data={"endpoint": "ci-bot", "delivery_id": delivery.id, "previous": "FAILED"},
    )


# --- supply-chain evidence ---------------------------------------------------------------

SIGNER = Signer()


async def _signing_key(s: Scene) -> None:
    await s.mutate("admin", CREATE_KEY, {"name": "ci", "key": SIGNER.public_pem})


@row("signing_key.created")
async def create_signing_key(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await mark()
    await _signing_key(s)
    return Expected("admin@example.com", data={"name": "ci", "algorithm": "ECDSA_P256"})


@row("signing_key.deleted")
async def delete_signing_key(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    await _signing_key(s)
    await mark()
    await s.mutate(
        "admin", 'mutation { deleteSigningKey(name: "ci") { deleted errors { code message } } }'
    )
    return Expected("admin@example.com", data={"name": "ci", "evidence_unverified": 0})


@row("evidence.attached")
async def attach_evidence(s: Scene, mark: Callable[[], Awaitable[None]]) -> Expected:
    image = await image_with_digest(s.world, "2.1", SAMPLE_DIGEST)
    await mark()
    await s.mutate(
        "builder",
        ATTACH,
        {"image": global_id("Image", image), "type": "SBOM", "document": sample("spdx.json")},
    )
    return Expected(
        "builder@example.com",
        application="shop",
        data={"image_id": image, "type": "SBOM", "format": "spdx", "verified": False},
    )


async def audit_events(action: str, scene: Scene) -> list[dict[str, Any]]:
    data = await scene.world.gql(AUDIT, {"action": action}, token=scene.world.admin)
    return [e["node"] for e in data["auditLog"]["edges"]]


@pytest.mark.parametrize(
    ("action", "row_function", "world_options"),
    [pytest.param(a, f, w, id=f"{a}: {label}") for a, label, f, w in ACTIONS],
)
async def test_action_is_audited(
    action: str,
    row_function: Row,
    world_options: dict[str, Any],
    gql: GraphQLClient,
    people: People,
    admin: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = Scene(await build_world(gql, people, admin, **world_options), monkeypatch)
    before: set[str] = set()

    async def mark() -> None:
        before.update(e["id"] for e in await audit_events(action, scene))

    expected = await row_function(scene, mark)
    added = [e for e in await audit_events(action, scene) if e["id"] not in before]
    assert len(added) == 1, f"{action}: {len(added)} new events, expected one: {added}"
    [event] = added
    assert event["action"] == action
    actor = event["actor"]["email"] if event["actor"] else None
    assert actor == expected.actor
    assert (event["application"], event["environment"]) == (
        expected.application,
        expected.environment,
    )
    details = json.loads(event["data"])
    assert {k: details.get(k) for k in expected.data} == expected.data, details


# --- the table against the code -------------------------------------------------------

# Actions named with an f-string over an enum: `prefix + member.value.lower()` for each
# member, except those the code never moves to (with the reason).
DYNAMIC: dict[str, tuple[type[StrEnum], dict[str, str]]] = {
    "promotion.": (
        PromotionStatus,
        {
            "AWAITING_APPROVAL": "a request starts there (promotion.requested); no move leads "
            "back to it"
        },
    ),
    "deployment.": (
        DeploymentStatus,
        {
            "QUEUED": "a deployment is created QUEUED (deployment.created); no change leads "
            "back to it"
        },
    ),
}


def _is_record_call(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "record") or (
        isinstance(func, ast.Attribute)
        and func.attr == "record"
        and isinstance(func.value, ast.Name)
        and func.value.id in ("audit", "audit_service")
    )


def _actions_of(argument: ast.expr, where: str) -> set[str]:
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return {argument.value}
    if isinstance(argument, ast.IfExp):
        return _actions_of(argument.body, where) | _actions_of(argument.orelse, where)
    if isinstance(argument, ast.JoinedStr):
        head = argument.values[0]
        prefix = head.value if isinstance(head, ast.Constant) else ""
        assert prefix in DYNAMIC, (
            f"{where}: an action named by an f-string starting {prefix!r}: declare its "
            "values in DYNAMIC and give each a row"
        )
        enum, never = DYNAMIC[prefix]
        return {prefix + m.value.lower() for m in enum if m.name not in never}
    raise AssertionError(
        f"{where}: cannot tell the action of this record() call; name it with a string literal"
    )


def actions_in_code() -> dict[str, list[str]]:
    """Every action the app records, with where; also: no audit write bypasses `record`."""
    found: dict[str, list[str]] = {}
    for path in sorted(APP_DIR.rglob("*.py")):
        relative = path.relative_to(APP_DIR.parent)
        tree = ast.parse(path.read_text(), str(relative))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("create", "bulk_create")
                and (isinstance(node.value, ast.Name) and node.value.id == "AuditEvent")
            ):
                assert relative.as_posix() == "app/audit/service.py", (
                    f"{relative}:{node.lineno} writes AuditEvent directly: call record()"
                )
            if isinstance(node, ast.Call) and _is_record_call(node) and len(node.args) >= 2:
                where = f"{relative}:{node.lineno}"
                for action in _actions_of(node.args[1], where):
                    found.setdefault(action, []).append(where)
    return found


def test_table_covers_every_action_the_app_records() -> None:
    in_code = actions_in_code()
    assert len(in_code) > 20, "the scan found almost nothing: has record() moved?"
    tested = {action for action, *_ in ACTIONS}
    untested = {a: w for a, w in in_code.items() if a not in tested}
    assert not untested, f"audited actions without a row in ACTIONS: {untested}"
    stale = tested - set(in_code)
    assert not stale, f"rows for actions the app no longer records: {sorted(stale)}"
