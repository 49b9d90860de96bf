"""Per-item outcome codes of promoting and deciding (SPEC §4, §5)."""

from __future__ import annotations

from enum import StrEnum


class PromoteOutcome(StrEnum):
    PROMOTING = "PROMOTING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    # No approval needed, but the pair's promotion window is closed: promoted once it opens.
    QUEUED = "QUEUED"
    NOT_IN_WORKFLOW = "NOT_IN_WORKFLOW"
    NOT_PASSED_AT_SOURCE = "NOT_PASSED_AT_SOURCE"
    SAME_AS_SOURCE = "SAME_AS_SOURCE"
    ORDER_MISMATCH = "ORDER_MISMATCH"
    FORBIDDEN = "FORBIDDEN"
    POLICY_NOT_CONFIGURED = "POLICY_NOT_CONFIGURED"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"
    ALREADY_PROMOTED = "ALREADY_PROMOTED"
    ALREADY_AT_TARGET = "ALREADY_AT_TARGET"
    BLOCKED_BY_POLICY = "BLOCKED_BY_POLICY"


class DecisionOutcome(StrEnum):
    APPROVED = "APPROVED"
    PROMOTING = "PROMOTING"
    # The quorum is reached while the pair's promotion window is closed.
    QUEUED = "QUEUED"
    REJECTED = "REJECTED"
    NOT_FOUND = "NOT_FOUND"
    NOT_PENDING = "NOT_PENDING"
    FORBIDDEN = "FORBIDDEN"
    STALE = "STALE"
    REQUESTER_CANNOT_APPROVE = "REQUESTER_CANNOT_APPROVE"
    BUILDER_CANNOT_APPROVE = "BUILDER_CANNOT_APPROVE"
    ALREADY_APPROVED = "ALREADY_APPROVED"
