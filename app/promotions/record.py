"""The signed record of a promotion (issue 20, item 5): what promotions knows of a request
that just turned PROMOTED, handed to app.attestation in the same transaction."""

from __future__ import annotations

from app import ids
from app.attestation import service as attestation
from app.attestation.statement import Approver, PromotionRecord
from app.policies.models import Enforcement, PromotionPolicy
from app.promotions import repository
from app.promotions.models import PromotionRequest


async def record_promotion(request_id: int) -> bool:
    """Sign and store the request's promotion record; False when it has one already."""
    request = await PromotionRequest.get(id=request_id).select_related(
        "image", "application", "source_environment", "target_environment", "requested_by"
    )
    approvals = await repository.approvals_in_order(request_id)
    policy = await PromotionPolicy.get_or_none(id=request.policy_id) if request.policy_id else None
    assert request.promoted_at is not None  # set by the move to PROMOTED
    record = PromotionRecord(
        request_id=ids.global_id("PromotionRequest", request.id),
        image=request.image.image,
        digest=request.image.digest,
        application=request.application.name,
        source_type=request.source_type.value,
        source_environment=(
            request.source_environment.name if request.source_environment else None
        ),
        target_environment=request.target_environment.name,
        policy_name=request.policy_name,
        policy_version=request.policy_version,
        # The policy as it governs now, at the version the request was promoted under.
        enforcement=(policy.enforcement if policy else Enforcement.ENFORCE).value,
        evaluation=dict(request.evaluation),
        warnings=list(request.warnings or []),
        requested_by=request.requested_by.email,
        approvers=[Approver(a.user.email, a.at) for a in approvals],
        required_approvals=request.required_approvals,
        requested_at=request.created_at,
        approved_at=approvals[-1].at if approvals else None,
        promoted_at=request.promoted_at,
    )
    return await attestation.record_promotion(request.id, record)
