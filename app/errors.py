"""Domain errors: expected failures that services raise and the doors turn into data."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_CONDITION = "INVALID_CONDITION"
    INVALID_MANIFEST = "INVALID_MANIFEST"
    NOT_PENDING = "NOT_PENDING"
    NOT_DEPLOYABLE = "NOT_DEPLOYABLE"
    FILTER_BLOCKED = "FILTER_BLOCKED"
    DEPLOYMENT_APPROVAL_REQUIRED = "DEPLOYMENT_APPROVAL_REQUIRED"
    APPROVER_CANNOT_DEPLOY = "APPROVER_CANNOT_DEPLOY"
    BUILDER_CANNOT_APPROVE = "BUILDER_CANNOT_APPROVE"
    # The caller lacks the right: for a field they may not set (e.g. builtBy naming
    # someone else without a CI identity) or for the whole mutation. Queries answer a
    # missing right with a top-level FORBIDDEN error instead (they have no payload).
    FORBIDDEN = "FORBIDDEN"
    # The pair's promotion window is closed; the message says when it opens.
    WINDOW_CLOSED = "WINDOW_CLOSED"
    NOT_DEAD = "NOT_DEAD"
    NOT_RESENDABLE = "NOT_RESENDABLE"
    # rollbackDeployment: the image never SUCCEEDED in the environment, or is the one there.
    NOT_ROLLBACKABLE = "NOT_ROLLBACKABLE"


class DomainError(Exception):
    """One expected failure, naming the input field it concerns (dotted path) if any."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @property
    def extensions(self) -> dict[str, str | None]:
        """graphql-core copies this into the error a query answers with."""
        return {"code": self.code.value, "field": self.field}


class DomainErrors(Exception):
    """Several expected failures reported together (validation collects them all)."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class Unauthenticated(Exception):
    """No valid API token: the caller gets no data."""

    extensions = {"code": "UNAUTHENTICATED"}


class Forbidden(Exception):
    """The caller lacks the right for the whole operation."""

    extensions = {"code": "FORBIDDEN"}


def validation(message: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, message, field)


def not_found(message: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, message, field)


def conflict(message: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.CONFLICT, message, field)


class ErrorCollector:
    """Gathers validation errors so one answer lists every bad field, then raises them."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def add(self, error: DomainError) -> None:
        self.errors.append(error)

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise DomainErrors(self.errors)
