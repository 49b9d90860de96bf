"""Who may approve a request: the one rule used by approving, `canApprove` and the approver list."""

from __future__ import annotations

from app.accounts.access import Access
from app.accounts.models import Role
from app.policies.models import PromotionPolicy


def approval_blocker(
    access: Access,
    *,
    application: str,
    environment: str,
    requested_by_id: int,
    builder_ids: frozenset[int],
    policy: PromotionPolicy,
    approver_ids: set[int],
) -> tuple[str, str] | None:
    """(outcome code, message) that stops the caller approving, or None when they may.

    The separation-of-duty flags apply to super-admins too. `builder_ids` is
    `app.catalog.builders.builders_of(image)`.
    """
    if not access.has_role(Role.ARTIFACT_PROMOTER, application, environment):
        return "FORBIDDEN", f"you need ARTIFACT_PROMOTER on {application}/{environment}"
    me = access.user_id
    if me == requested_by_id and not policy.allow_request_from_approve:
        return "REQUESTER_CANNOT_APPROVE", (
            f"policy {policy.name} does not let the requester approve their own request"
        )
    if me is not None and me in builder_ids and not policy.allow_image_builder_from_approve:
        return "BUILDER_CANNOT_APPROVE", (
            f"policy {policy.name} does not let the image's builder approve it"
        )
    if me in approver_ids:
        return "ALREADY_APPROVED", "you have already approved this request"
    return None
