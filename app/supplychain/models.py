"""Registered signing keys and the evidence attached to images (issue 20)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.catalog.models import Image


class EvidenceType(StrEnum):
    SIGNATURE = "SIGNATURE"
    VULNERABILITY_REPORT = "VULNERABILITY_REPORT"
    PROVENANCE = "PROVENANCE"
    SBOM = "SBOM"


class SigningKey(Model):
    """A public key signatures and DSSE envelopes are verified against (super-admins)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    algorithm = fields.CharField(max_length=16)
    public_key = fields.TextField()
    fingerprint = fields.CharField(max_length=80, unique=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="signing_keys", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "signing_keys"


class Evidence(Model):
    """One document attached to an image, as its summary (the document itself is not kept:
    its SHA-256 says which one it was)."""

    id = fields.IntField(primary_key=True)
    image: fields.ForeignKeyRelation[Image] = fields.ForeignKeyField(
        "hoist.Image", related_name="evidence", on_delete=fields.CASCADE
    )
    image_id: int
    kind = fields.CharEnumField(EvidenceType, max_length=24)
    format = fields.CharField(max_length=16)
    digest = fields.CharField(max_length=100)
    summary: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    verified = fields.BooleanField(default=False)
    # The key that verified it (null: none did, or it was deleted since; see verified).
    signing_key: fields.ForeignKeyNullableRelation[SigningKey] = fields.ForeignKeyField(
        "hoist.SigningKey", related_name="evidence", null=True, on_delete=fields.SET_NULL
    )
    signing_key_id: int | None
    key_name = fields.CharField(max_length=50, null=True)
    document_sha256 = fields.CharField(max_length=64)
    attached_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="attached_evidence", null=True, on_delete=fields.SET_NULL
    )
    attached_by_id: int | None
    # Hoist's clock (app/clock.py), not the database's: evidenceAge is measured from it.
    created_at = fields.DatetimeField()

    class Meta:
        table = "evidence"
        indexes = (("image_id", "kind", "id"),)
