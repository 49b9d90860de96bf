"""People, their API tokens and their role bindings (SPEC §2)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

WILDCARD = "*"


class Role(StrEnum):
    VIEWER = "VIEWER"
    BUILD_DEPLOY = "BUILD_DEPLOY"
    ARTIFACT_PROMOTER = "ARTIFACT_PROMOTER"
    DEPLOYMENT_APPROVER = "DEPLOYMENT_APPROVER"


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=100)
    super_admin = fields.BooleanField(default=False)
    # A dedicated account for a CI system (set at creation only, by a super-admin): the one
    # kind of caller, besides super-admins, that may name another user as an image's
    # builder. A flag on the account rather than a role or a token scope: see
    # app/catalog/builders.py for why.
    ci_identity = fields.BooleanField(default=False, db_default=False)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="tokens", on_delete=fields.CASCADE
    )
    user_id: int
    name = fields.CharField(max_length=100)
    # SHA-256 of the secret: the secret itself is shown once and never stored.
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_tokens"


class RoleBinding(Model):
    """A role on (application, environment), either of which may be the wildcard `*`.

    Names rather than foreign keys, because `*` is not a row and names never change.
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="role_bindings", on_delete=fields.CASCADE
    )
    user_id: int
    role = fields.CharEnumField(Role, max_length=32)
    application = fields.CharField(max_length=50)
    environment = fields.CharField(max_length=50)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "role_bindings"
        unique_together = (("user", "role", "application", "environment"),)
