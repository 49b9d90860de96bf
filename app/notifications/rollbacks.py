"""The email a rollback sends (issue 18): to the requester of the promotion that brought
the image the rollback replaced, so they learn their fix is no longer running.

Written in the rollback's transaction (the listener of `DeploymentRolledBack`), keyed
(request, recipient, ROLLED_BACK, rollback deployment id): once per rollback, whatever runs
twice. A replaced image that came by the normal path was nobody's request: no email.
"""

from __future__ import annotations

from app import ids
from app.catalog.models import Image
from app.events import DeploymentRolledBack
from app.notifications import content
from app.notifications.models import NotificationEvent
from app.notifications.service import person, recipients, write_emails
from app.promotions.models import PromotionRequest


async def deployment_rolled_back(event: DeploymentRolledBack) -> int:
    """Write the rollback email to the replaced promotion's requester; how many were new."""
    if event.replaced_request_id is None:
        return 0
    request = await PromotionRequest.get(id=event.replaced_request_id).select_related(
        "application", "target_environment", "image", "requested_by", "policy"
    )
    people = await recipients(request, NotificationEvent.ROLLED_BACK)
    if not people:
        return 0
    actor = event.actor.user
    restored = await Image.get(id=event.image_id)
    rollback = content.Rollback(
        by=person(actor) if actor is not None else "Hoist",
        restored_image=restored.image,
        deployment_id=ids.global_id("Deployment", event.deployment_id),
    )
    return await write_emails(
        request,
        NotificationEvent.ROLLED_BACK,
        people,
        occurrence=event.deployment_id,
        rollback=rollback,
    )
