"""The deployment executor (a worker job): `noop` reports every stage succeeded at once;
`webhook` POSTs a signed JSON body and the deployer reports back with recordStageResult;
a pipeline with a Git target uses `git` whatever HOIST_DEPLOY_EXECUTOR says: the
deployment is a commit that Argo CD or Flux deploys (app/deployments/git).

The git executor's DEPLOY stage succeeds when the push is accepted (or the image was there
already); PRE and POST, when the pipeline has them, are the CD system's to report with
recordStageResult, and the deployment stays RUNNING until they are in. A pipeline with
neither SUCCEEDS at once.

Webhook deliveries are at-least-once: a worker that dies after the POST but before its
commit has the job run again. Receivers deduplicate by `X-Hoist-Delivery` (the deployment id).

Each POST is signed as every Hoist webhook is (app/signatures.py). The receiver's
answer body is never stored: a deployment's `error`, which VIEWERs read, holds Hoist's
own words and the status code only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx

from app import ids, signatures
from app.accounts.access import SYSTEM
from app.audit.service import record
from app.catalog.git_target import GitTarget
from app.catalog.models import (
    Application,
    CdPipeline,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
)
from app.catalog.stages import configured_stages
from app.deployments import service
from app.deployments.git import run as git
from app.deployments.models import Deployment, DeploymentStatus
from app.settings import Settings, get_settings

log = logging.getLogger("hoist.deployments")


def signed_headers(secret: str, deployment_id: int, body: bytes) -> dict[str, str]:
    """The headers of one POST, signed now (the delivery is the deployment's id)."""
    return signatures.signed_headers(
        secret, ids.global_id("Deployment", deployment_id), body, "application/json"
    )


async def execute(deployment_id: int) -> None:
    """Run a QUEUED deployment; any other state means it already ran (idempotent)."""
    deployment = await Deployment.get_or_none(id=deployment_id)
    if deployment is None or deployment.status != DeploymentStatus.QUEUED:
        return
    pipeline = await CdPipeline.get(
        application_id=deployment.application_id, environment_id=deployment.environment_id
    )
    settings = get_settings()
    target = GitTarget.from_json(pipeline.git_target)
    if target is not None:
        await _git(deployment, pipeline, target, settings)
    elif settings.deploy_executor == "webhook":
        await _webhook(deployment, pipeline, settings)
    else:
        await _noop(deployment, pipeline)


async def _noop(deployment: Deployment, pipeline: CdPipeline) -> None:
    await Deployment.filter(id=deployment.id, status=DeploymentStatus.QUEUED).update(
        status=DeploymentStatus.RUNNING
    )
    for stage in configured_stages(pipeline):
        run = await StageRun.create(
            image_id=deployment.image_id,
            environment_id=deployment.environment_id,
            stage=stage,
            status=StageStatus.SUCCEEDED,
            deployment_id=deployment.id,
        )
        await service.stage_reported(pipeline, run)


async def _git(
    deployment: Deployment, pipeline: CdPipeline, target: GitTarget, settings: Settings
) -> None:
    try:
        pushed = await git.push(deployment, target, settings)
    except git.GitDeployFailed as exc:
        await _fail(deployment, str(exc))
        return
    log.info(
        "deployment %s: %s on %s (%s)",
        deployment.id,
        "pushed" if pushed.committed else "already there at",
        target.branch,
        pushed.sha,
    )
    changed = await Deployment.filter(id=deployment.id, status=DeploymentStatus.QUEUED).update(
        status=DeploymentStatus.RUNNING,
        commit_sha=pushed.sha,
        commit_repository=target.repository,
    )
    if not changed:
        return  # another run got here first
    run = await StageRun.create(
        image_id=deployment.image_id,
        environment_id=deployment.environment_id,
        stage=Stage.DEPLOY,
        status=StageStatus.SUCCEEDED,
        deployment_id=deployment.id,
    )
    await service.stage_reported(pipeline, run)


async def payload(
    deployment: Deployment, pipeline: CdPipeline, settings: Settings
) -> dict[str, Any]:
    image = await Image.get(id=deployment.image_id)
    app = await Application.get(id=deployment.application_id)
    env = await Environment.get(id=deployment.environment_id)
    return {
        "event": "deployment",
        # The API's ids, so the receiver can report back (recordStageResult's imageId).
        "deploymentId": ids.global_id("Deployment", deployment.id),
        "application": app.name,
        "environment": env.name,
        "image": {
            "id": ids.global_id("Image", image.id),
            "image": image.image,
            "digest": image.digest,
        },
        "stages": [s.value for s in configured_stages(pipeline)],
        "promotionRequestId": (
            ids.global_id("PromotionRequest", deployment.promotion_request_id)
            if deployment.promotion_request_id
            else None
        ),
        "reportTo": f"{settings.public_url.rstrip('/')}/graphql",
    }


def _transient(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


async def _webhook(deployment: Deployment, pipeline: CdPipeline, settings: Settings) -> None:
    if not settings.deploy_webhook_url or not settings.deploy_webhook_secret:
        await _fail(
            deployment,
            "HOIST_DEPLOY_WEBHOOK_URL and HOIST_DEPLOY_WEBHOOK_SECRET "
            "must be set for the webhook executor",
        )
        return
    body = json.dumps(await payload(deployment, pipeline, settings)).encode()
    error = "no attempt made"
    async with httpx.AsyncClient(timeout=settings.deploy_webhook_timeout_seconds) as client:
        for attempt in range(settings.deploy_webhook_attempts):
            if attempt:
                await asyncio.sleep(settings.deploy_webhook_backoff_seconds * 2 ** (attempt - 1))
            headers = signed_headers(settings.deploy_webhook_secret, deployment.id, body)
            try:
                response = await client.post(
                    settings.deploy_webhook_url, content=body, headers=headers
                )
            except httpx.TimeoutException as exc:
                error = f"no answer within {settings.deploy_webhook_timeout_seconds:g} s"
                log.warning(
                    "deployment %s: webhook timed out (%s)", deployment.id, type(exc).__name__
                )
                continue
            except httpx.TransportError as exc:
                # The exception's text may carry the URL (and a token in it): logs only.
                error = f"could not reach the webhook ({type(exc).__name__})"
                log.warning("deployment %s: webhook unreachable: %s", deployment.id, exc)
                continue
            if response.is_success:
                await Deployment.filter(id=deployment.id, status=DeploymentStatus.QUEUED).update(
                    status=DeploymentStatus.RUNNING
                )
                return
            error = signatures.answer_reason(response.status_code)
            # For the operator, in the server log only: the start of what the receiver said.
            log.warning(
                "deployment %s: webhook answered %s: %r", deployment.id, error, response.text[:200]
            )
            if not _transient(response):
                break
    await _fail(deployment, f"webhook failed: {error}")


async def _fail(deployment: Deployment, error: str) -> None:
    log.warning("deployment %s failed: %s", deployment.id, error)
    changed = await Deployment.filter(id=deployment.id, status=DeploymentStatus.QUEUED).update(
        status=DeploymentStatus.FAILED, error=error[:1000]
    )
    if changed:
        app = await Application.get(id=deployment.application_id)
        await record(
            SYSTEM,
            "deployment.failed",
            application=app.name,
            deployment_id=deployment.id,
            error=error[:1000],
        )
