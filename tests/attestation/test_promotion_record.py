"""The signed promotion record (issue 20, item 5): written when a request turns PROMOTED,
once; an in-toto statement in a DSSE envelope that verifies with the key Hoist publishes
at /.well-known/hoist-signing-key, and not after one byte of it changes."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from app.accounts.access import SYSTEM
from app.attestation.keys import signing_key
from app.attestation.models import PromotionAttestation
from app.catalog import service as catalog
from app.db import unit_of_work
from app.dsse import EnvelopeError, PublicKey, verified_payload
from app.ids import global_id
from app.promotions import service as promotions
from tests.promotions.world import World, drain, request_row

DIGEST = "sha256:" + "ab" * 32
ATTESTATION = """query($id: ID!) { promotionRequest(id: $id) {
    status attestation { envelope keyId } } }"""


async def image_with_digest(world: World) -> int:
    async with unit_of_work():
        image = await catalog.register_image(
            SYSTEM,
            "shop",
            "main",
            "registry.example.com/shop:1.4.2",
            DIGEST,
            ["stable"],
            [catalog.GitCommitSpec("https://git.example.com/shop", "main")],
            "builder@example.com",
        )
    return image.id


async def published_key(world: World) -> tuple[PublicKey, str]:
    response = await world.gql.http.get("/.well-known/hoist-signing-key")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-pem-file")
    key = serialization.load_pem_public_key(response.content)
    assert not isinstance(key, bytes)
    as_json = await world.gql.http.get(
        "/.well-known/hoist-signing-key", headers={"Accept": "application/json"}
    )
    assert as_json.json() == {
        "keyId": response.headers["x-hoist-key-id"],
        "publicKey": response.text,
    }
    return key, response.headers["x-hoist-key-id"]  # type: ignore[return-value]


async def promoted_envelope(world: World, request_id: int) -> dict[str, Any]:
    data = await world.gql(
        ATTESTATION, {"id": global_id("PromotionRequest", request_id)}, token=world.tokens["dev"]
    )
    request = data["promotionRequest"]
    assert request["status"] == "PROMOTED"
    assert request["attestation"]["keyId"] == signing_key().key_id
    return dict(json.loads(request["attestation"]["envelope"]))


def flipped(text: str, at: int) -> str:
    """Base64 `text` with one byte of what it encodes changed."""
    data = bytearray(base64.b64decode(text))
    data[at] ^= 0x01
    return base64.b64encode(bytes(data)).decode()


async def test_a_promoted_request_has_a_record_that_verifies_with_the_published_key(
    world: World,
) -> None:
    await world.policy("careful", "prod", approver_count=1)
    image = await image_with_digest(world)
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    request_id = request_row(result)
    pending = await world.gql(
        ATTESTATION, {"id": global_id("PromotionRequest", request_id)}, token=world.tokens["dev"]
    )
    assert pending["promotionRequest"]["attestation"] is None  # not promoted yet
    await world.decide(world.tokens["approver"], [request_id])
    await drain()

    envelope = await promoted_envelope(world, request_id)
    key, key_id = await published_key(world)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert envelope["signatures"][0]["keyid"] == key_id
    statement = json.loads(verified_payload(envelope, key))

    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [
        {"name": "registry.example.com/shop", "digest": {"sha256": "ab" * 32}}
    ]
    assert statement["predicateType"] == "https://hoist.dev/promotion/v1"
    predicate = statement["predicate"]
    assert predicate["requestId"] == global_id("PromotionRequest", request_id)
    assert predicate["policy"] == {"name": "careful", "version": 1, "enforcement": "ENFORCE"}
    assert predicate["source"] == {"type": "CI", "environment": None}
    assert predicate["targetEnvironment"] == "prod"
    assert predicate["requestedBy"] == "dev@example.com"
    assert [a["email"] for a in predicate["approvers"]] == ["approver@example.com"]
    assert predicate["approvedAt"] == predicate["approvers"][0]["approvedAt"]
    assert predicate["requestedAt"] <= predicate["approvedAt"] <= predicate["promotedAt"]
    assert predicate["evaluation"]["eligible"] is True
    assert predicate["evaluation"]["warnings"] == []

    # One byte more or less anywhere, and it no longer verifies.
    for field, at in (("payload", 10), ("payload", -1)):
        tampered = {**envelope, field: flipped(envelope[field], at)}
        with pytest.raises(EnvelopeError):
            verified_payload(tampered, key)
    for at in (8, -1):
        tampered = copy.deepcopy(envelope)
        tampered["signatures"][0]["sig"] = flipped(tampered["signatures"][0]["sig"], at)
        with pytest.raises(EnvelopeError):
            verified_payload(tampered, key)
    with pytest.raises(EnvelopeError):
        verified_payload({**envelope, "payloadType": "application/json"}, key)


async def test_the_record_is_written_once(world: World) -> None:
    await world.policy("fast-lane", "prod")
    [result] = await world.promote(world.tokens["dev"], await image_with_digest(world), ["prod"])
    request_id = request_row(result)
    await drain()
    [row] = await PromotionAttestation.filter(request_id=request_id)
    # The promote job again (a redelivery): nothing more is written, nothing re-signed.
    async with unit_of_work():
        await promotions.complete_promotion(request_id)
    assert [r.id for r in await PromotionAttestation.filter(request_id=request_id)] == [row.id]
    assert (await PromotionAttestation.get(id=row.id)).envelope == row.envelope


async def test_a_warn_policys_record_carries_its_warnings(world: World) -> None:
    from app.policies.models import Enforcement

    await world.policy(
        "core-soon", "prod", pass_condition='"core" in imageLabels', enforcement=Enforcement.WARN
    )
    [result] = await world.promote(world.tokens["dev"], await image_with_digest(world), ["prod"])
    await drain()
    envelope = await promoted_envelope(world, request_row(result))
    key, _ = await published_key(world)
    predicate = json.loads(verified_payload(envelope, key))["predicate"]
    assert predicate["policy"]["enforcement"] == "WARN"
    assert predicate["evaluation"]["passCondition"]["result"] is False
    [warning] = predicate["evaluation"]["warnings"]
    assert (warning["expression"], warning["value"]) == (
        '"core" in imageLabels',
        '"core" in ["stable"]',
    )
