"""The in-toto Statement v1 of one promotion (issue 20, item 5), as plain JSON.

https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md: the subject is the
promoted image by digest, the predicate says under which policy version, with which
evaluation, approved by whom, from where to where and when. The predicate type is Hoist's
own; README "Verifying a promotion record" documents its fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.images import image_digest, split_reference

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://hoist.dev/promotion/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


@dataclass(frozen=True)
class Approver:
    email: str
    approved_at: datetime


@dataclass(frozen=True)
class PromotionRecord:
    """What a promotion record says, gathered by promotions when a request turns PROMOTED."""

    request_id: str  # the id the API shows
    image: str
    digest: str | None
    application: str
    source_type: str
    source_environment: str | None
    target_environment: str
    policy_name: str
    policy_version: int
    enforcement: str
    evaluation: dict[str, Any]
    warnings: list[dict[str, Any]]
    requested_by: str
    approvers: list[Approver]
    required_approvals: int
    requested_at: datetime
    approved_at: datetime | None
    promoted_at: datetime


def _time(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def subject(image: str, digest: str | None) -> dict[str, Any]:
    """The image by name (without tag or digest) and its sha256 digest: the recorded digest,
    else the one in the reference; none known, an empty digest set (it matches nothing)."""
    known = image_digest(image, digest)
    repository, _ = split_reference(image)
    return {
        "name": repository,
        "digest": {"sha256": known.removeprefix("sha256:")} if known else {},
    }


def statement(record: PromotionRecord) -> dict[str, Any]:
    """The in-toto statement of the record."""
    evaluation = {k: v for k, v in record.evaluation.items() if k != "failedClauses"}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [subject(record.image, record.digest)],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "requestId": record.request_id,
            "image": record.image,
            "application": record.application,
            "source": {"type": record.source_type, "environment": record.source_environment},
            "targetEnvironment": record.target_environment,
            "policy": {
                "name": record.policy_name,
                "version": record.policy_version,
                "enforcement": record.enforcement,
            },
            "evaluation": {
                **evaluation,
                "failedClauses": record.evaluation.get("failedClauses", []),
                "warnings": record.warnings,
            },
            "requestedBy": record.requested_by,
            "requiredApprovals": record.required_approvals,
            "approvers": [
                {"email": a.email, "approvedAt": _time(a.approved_at)} for a in record.approvers
            ],
            "requestedAt": _time(record.requested_at),
            "approvedAt": _time(record.approved_at),
            "promotedAt": _time(record.promoted_at),
        },
    }


def payload(record: PromotionRecord) -> bytes:
    """The statement's bytes as signed: canonical-ish JSON (sorted keys, no spaces)."""
    return json.dumps(statement(record), sort_keys=True, separators=(",", ":")).encode()
