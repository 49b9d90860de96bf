"""Turning domain errors into UserError payloads and auth failures into coded GraphQL errors."""

from __future__ import annotations

import re
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry import UNSET as UNSET  # re-exported: the schemas take it from here
from strawberry.extensions import MaskErrors
from strawberry.types.base import get_object_definition
from tortoise.exceptions import IntegrityError
from tortoise.exceptions import ValidationError as ColumnValidationError

from app import ids, limits, live
from app.db import in_unit_of_work
from app.errors import (
    DomainError,
    DomainErrors,
    ErrorCode,
    Forbidden,
    Unauthenticated,
    not_found,
    validation,
)
from app.graphql.describe import describe_values

# strawberry.enum registers the GraphQL enum on the class itself (and returns it).
ErrorCodeType = ErrorCode
strawberry.enum(
    ErrorCodeType,
    name="ErrorCode",
    description="Why something was refused: a UserError's code, and `extensions.code` of a "
    "top-level error (which may also be UNAUTHENTICATED: send a valid API token).",
)
describe_values(
    ErrorCodeType,
    {
        ErrorCode.VALIDATION: "The input breaks a rule (a length, format or range); `field` "
        "names it. Correct the value and send it again.",
        ErrorCode.NOT_FOUND: "Nothing with that name or id exists that you may see (another "
        "application's, or another user's token); `field` names which. Check the name or id.",
        ErrorCode.CONFLICT: "It clashes with what exists: the name is taken, it was done "
        "already, or someone changed it at the same moment. Reload; pick another name or "
        "leave it.",
        ErrorCode.INVALID_CONDITION: "A CEL condition does not parse, names an unknown "
        "variable, is not boolean or too costly; the message says what and at which column. "
        "Correct the expression.",
        ErrorCode.INVALID_MANIFEST: "The YAML manifest is malformed, of the wrong kind or "
        "lacks a field; the message names the line or field. Fix the file; nothing was applied.",
        ErrorCode.NOT_PENDING: "The promotion request no longer awaits approval (the message "
        "gives its state), so it can no longer be changed. Reload it.",
        ErrorCode.NOT_DEPLOYABLE: "The image has not reached the environment (it neither "
        "passed the previous stage nor was promoted there), or is deployed or deploying there "
        "already. Pick one deployableImages lists as deployable.",
        ErrorCode.FILTER_BLOCKED: "The environment's filter conditions refuse the image; the "
        "message gives the reason. Deploy another image, or have a super-admin change the "
        "filter.",
        ErrorCode.DEPLOYMENT_APPROVAL_REQUIRED: "The image has fewer deployment approvals "
        "for the environment than its CD pipeline's deploymentApprovalCount. Ask a "
        "DEPLOYMENT_APPROVER of it to approveDeployment, then deploy again.",
        ErrorCode.APPROVER_CANNOT_DEPLOY: "You approved this image's promotion, and its "
        "policy does not allow approvers to deploy (allowApproverFromDeploy). Someone else "
        "with BUILD_DEPLOY must deploy it.",
        ErrorCode.BUILDER_CANNOT_APPROVE: "You built or registered the image, and its "
        "builder may not approve it (separation of duties). Another approver must.",
        ErrorCode.FORBIDDEN: "You lack the role or right this needs (the message names it), "
        "or may not set this field (e.g. builtBy). Ask a super-admin for the role, or leave "
        "the field out.",
        ErrorCode.WINDOW_CLOSED: "The pair's promotion window is closed: nothing is deployed "
        "to it now. The message ends with when the window opens; deploy then, or ask a "
        "super-admin about the window.",
        ErrorCode.NOT_DEAD: "The worker job is not DEAD (still being tried, or done) or was "
        "retried a moment ago: only a DEAD job can be retried. Reload the list.",
        ErrorCode.NOT_RESENDABLE: "The notification is not FAILED or UNKNOWN, or changed "
        "meanwhile: only those can be resent. Nothing was resent; reload and resend those.",
        ErrorCode.NOT_ROLLBACKABLE: "A rollback may only bring back an image that SUCCEEDED "
        "in the environment before and is not the one there now (the newest SUCCEEDED "
        "deployment's). Pick another image from the environment's Deployment History.",
    },
)

# Exceptions whose message a client may see: ours carry their `extensions.code`; a
# GraphQLError is graphql-core's or Strawberry's own word on bad input (a variable of
# the wrong type arrives wrapped in one), written for clients.
# A live subscription's end (app/live.py) is an answer too: too many, read too slowly, or
# the process lost the Redis feed.
_EXPECTED = (
    Unauthenticated,
    Forbidden,
    DomainError,
    GraphQLError,
    live.TooManySubscriptions,
    live.TooSlow,
    live.FeedLost,
)


@strawberry.type(description="A problem with the input; nothing was written.")
class UserError:
    code: ErrorCodeType = strawberry.field(description="What kind of problem, and what to do.")
    message: str = strawberry.field(description="The problem in words, for a person.")
    field: str | None = strawberry.field(description="The input field at fault, dotted path.")

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(code=error.code, message=error.message, field=error.field)


_TOO_LONG = re.compile(r"(\w+): Length of '.*' (\d+) > (\d+)", re.DOTALL)


def bad_value(exc: ColumnValidationError) -> DomainError:
    """Tortoise checks a value against its column even in a filter, so a name longer than
    any stored one (`application(name: <51 characters>)`) fails there: the client's input."""
    match = _TOO_LONG.fullmatch(str(exc))
    if match is None:
        return validation("a value is not one Hoist can store or look up")
    field, length, limit = match.groups()
    return validation(f"{field} may be at most {limit} characters long (got {length})", field)


_CODES = "hoist.error_codes"
P = TypeVar("P")


def error_list(description: str, *codes: ErrorCode) -> Any:
    """A payload's `errors` field, declaring the codes it may hold: its description lists
    them (a client switches over these, not all of ErrorCode), and `mutate` checks every
    error it answers with against them."""
    listed = ", ".join(code.value for code in codes)
    return strawberry.field(
        default_factory=list,
        description=f"{description} Empty on success. Codes: {listed}.",
        metadata={_CODES: frozenset(codes)},
    )


class UndeclaredErrorCode(UserWarning):
    """A payload answered with a code its `errors` field does not list: the list in the
    schema is wrong. A warning, so a client still gets its answer; the test suite turns
    warnings into errors (pytest's filterwarnings), so a test that reaches one fails."""


def declared_codes(payload_type: type) -> frozenset[ErrorCode]:
    definition = get_object_definition(payload_type, strict=True)
    field = definition.get_field("errors")
    if field is None or _CODES not in field.metadata:
        raise TypeError(f"{payload_type.__name__}.errors is not declared with error_list()")
    codes: frozenset[ErrorCode] = field.metadata[_CODES]
    return codes


def _declared(payload: P, errors: list[UserError]) -> P:
    undeclared = {e.code for e in errors} - declared_codes(type(payload))
    if undeclared:
        warnings.warn(
            f"{type(payload).__name__} answered {', '.join(sorted(undeclared))}, which its "
            "errors field does not list (error_list)",
            UndeclaredErrorCode,
            stacklevel=3,
        )
    return payload


def user_errors(exc: DomainError | DomainErrors) -> list[UserError]:
    errors = exc.errors if isinstance(exc, DomainErrors) else [exc]
    return [UserError.of(e) for e in errors]


async def mutate(fn: Callable[[], Awaitable[P]], failed: Callable[[list[UserError]], P]) -> P:
    """Run a mutation in one transaction; expected failures roll it back and become the
    payload's UserErrors: the caller's missing right (FORBIDDEN), an unknown object
    (NOT_FOUND), bad input (VALIDATION) and the domain's own refusals. So a document with
    two mutations, one refused, still answers the other's result (its payload is not
    null and nothing bubbles up to `data`). Only authentication stays a top-level error:
    `info.context.access()` runs before `mutate` in every mutation. Every code must be one
    the payload's `errors` field declares (error_list)."""
    try:
        return await in_unit_of_work(fn)
    except (DomainError, DomainErrors) as exc:
        errors = user_errors(exc)
    except Forbidden as exc:
        errors = [UserError(code=ErrorCode.FORBIDDEN, message=str(exc), field=None)]
    except ColumnValidationError as exc:
        errors = user_errors(bad_value(exc))
    except IntegrityError:
        # A unique constraint lost a race the service's own checks could not see (two
        # callers creating the same name at once): the same answer as a plain duplicate.
        errors = [
            UserError(
                code=ErrorCode.CONFLICT,
                field=None,
                message="this conflicts with a change made at the same time; reload and try again",
            )
        ]
    return _declared(failed(errors), errors)


# graphql-core's wording when checking a literal in the document raised something other
# than a GraphQLError: "Expected value of type 'T', but encountered error '...'; found: X."
_ENCOUNTERED = re.compile(r", but encountered error '.*'; found: ", re.DOTALL)


def _literal_crash(error: GraphQLError) -> bool:
    """graphql-core's own suggestion code fails on some literals while validating the
    document: an enum value given as the string "İ", whose lower case is longer than itself,
    raises IndexError in suggestion_list (graphql-core 3.3.2). The literal is still the
    client's mistake: the answer is graphql-core's message without the crash's text."""
    return (
        error.path is None
        and error.original_error is not None
        and _ENCOUNTERED.search(error.message) is not None
    )


def is_expected(error: GraphQLError) -> bool:
    """Errors that are answers, not incidents: validation, auth, and bad input."""
    original = error.original_error
    return (
        original is None
        or isinstance(original, (*_EXPECTED, ColumnValidationError))
        or _literal_crash(error)
    )


def should_mask(error: GraphQLError) -> bool:
    """Crashes are masked; a value too long for its column and a literal graphql-core failed
    to check are reworded (see MaskCrashes)."""
    return (
        not is_expected(error)
        or isinstance(error.original_error, ColumnValidationError)
        or _literal_crash(error)
    )


class MaskCrashes(MaskErrors):
    """Strawberry's masking, except that Tortoise's refusal of a too-long value (raised
    outside `mutate`, e.g. in a query's filter) becomes a VALIDATION error saying so, and a
    literal graphql-core failed to check keeps graphql-core's message (`_literal_crash`)."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if _literal_crash(error):
            return GraphQLError(
                _ENCOUNTERED.sub(", found: ", error.message),
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
            )
        if not isinstance(error.original_error, ColumnValidationError):
            return super().anonymise_error(error)
        bad = bad_value(error.original_error)
        return GraphQLError(
            bad.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=bad.extensions,
        )


def parse_id(value: str, field: str, type_name: str) -> int:
    """The row id in a global id of a `type_name` object (app/ids.py); anything else (a
    forged id, another type's, a bare number) is an id nothing has: NOT_FOUND on `field`."""
    row_id = ids.row_id(value, type_name)
    if row_id is None:
        shown = value if len(value) <= limits.ID else value[: limits.ID] + "..."
        raise not_found(f"no {type_name} has the id {shown!r}", field)
    return row_id


def unset_to_none(value: Any) -> Any:
    """Optional arguments without a default arrive as UNSET when omitted."""
    return None if value is UNSET else value
