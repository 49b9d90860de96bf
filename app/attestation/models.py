"""Signed promotion records: one DSSE envelope per PROMOTED request (issue 20, item 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from app.promotions.models import PromotionRequest


class PromotionAttestation(Model):
    id = fields.IntField(primary_key=True)
    # Unique: a request is recorded once, however often the promote job runs.
    request: fields.OneToOneRelation[PromotionRequest] = fields.OneToOneField(
        "hoist.PromotionRequest", related_name="attestation", on_delete=fields.CASCADE
    )
    request_id: int
    key_id = fields.CharField(max_length=64)
    # The envelope's JSON exactly as signed and handed out (the signature covers the
    # payload inside it, not this text, but keeping it verbatim keeps answers identical).
    envelope = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "promotion_attestations"
