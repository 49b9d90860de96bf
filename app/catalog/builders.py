"""Who counts as an image's builder for the separation-of-duty rules: the one home of that rule.

An image names the user who triggered its build (`built_by`) and records who called
registerImage (`registered_by`). Only a CI identity or a super-admin may name someone
else as the builder (app/catalog/service.py); so that nobody can dodge the builder rule
by registering an image under another name, the registrant counts as a builder too,
unless it registered as a CI identity: a CI system registers every image and triggers
none of them itself.

The rule has two forms, side by side: `builders_of` for one image in Python (approving,
canApprove, deployment approvals, approver lists) and `not_built_by` for SQL filters
over many (pendingApprovals). tests/catalog/test_builders.py checks that they agree on
every combination of the columns.

Why a flag on a dedicated account (`User.ci_identity`) rather than a role or a token
scope: the identity Hoist records (`registeredBy`, the audit log's actor) is the user,
so the exemption must be a property of that user, visible wherever the user is shown;
with a token scope a person could hold a CI token and a personal one, and the image
would name a person who was exempt only through a token nobody sees. A role binding
would let a super-admin hand "may name any builder" to a person who also approves. CI
systems use dedicated accounts on GitHub (bot/machine users) and GitLab (service
accounts) for the same reason; the flag is set only when the account is created, so a
person's account never turns into one. Naming another builder still needs
BUILD_DEPLOY on the application, so the flag adds no reach beyond the roles held.
"""

from __future__ import annotations

from typing import Any, Protocol

from tortoise.expressions import Q


class BuiltImage(Protocol):
    """The columns the rule reads (an Image row, or the GraphQL Image type)."""

    @property
    def built_by_id(self) -> int | None: ...

    @property
    def registered_by_id(self) -> int | None: ...

    @property
    def registered_by_ci(self) -> bool: ...


def builders_of(image: BuiltImage) -> frozenset[int]:
    """Ids of the users who count as the image's builders (possibly none)."""
    ids = set()
    if image.built_by_id is not None:
        ids.add(image.built_by_id)
    if image.registered_by_id is not None and not image.registered_by_ci:
        ids.add(image.registered_by_id)
    return frozenset(ids)


def not_built_by(user_id: int | None, prefix: str = "") -> Q:
    """SQL form: true for the images `user_id` is NOT a builder of.

    `prefix` reaches images through a relation (`"image__"` from promotion requests).
    Written NULL-safe: `built_by_id <> me` alone is NULL, not true, for an image with no
    builder, and would hide it.
    """
    if user_id is None:  # Hoist itself built nothing
        return Q()
    built, registered, ci = (
        f"{prefix}built_by_id",
        f"{prefix}registered_by_id",
        f"{prefix}registered_by_ci",
    )
    return (_where(f"{built}__isnull", True) | ~_where(built, user_id)) & (
        _where(f"{registered}__isnull", True) | ~_where(registered, user_id) | _where(ci, True)
    )


def _where(column: str, value: object) -> Q:
    """`Q(<column>=value)` for a column name made at run time."""
    # Typed as Any so the unpacking cannot be taken for Q's own `join_type` keyword.
    filters: dict[str, Any] = {column: value}
    return Q(**filters)
