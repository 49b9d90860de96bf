"""What the supply-chain tests share: keys made in the test, cosign simple-signing payloads
signed with them, DSSE envelopes, the checked-in sample reports and SBOMs, and GraphQL."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.accounts.access import SYSTEM
from app.catalog import service as catalog
from app.db import unit_of_work
from app.dsse import pae
from app.ids import global_id
from tests.promotions.world import World

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evidence"
# The digest the checked-in samples name (grype.json names GRYPE_DIGEST).
SAMPLE_DIGEST = "sha256:f85cad66c8b25d3e603770b7a075ef912b3221c2fcecce722c3a2be83d82179b"
GRYPE_DIGEST = "sha256:9124ded11461bdfbd98003dee689c74c4c4bf94a807bb366f7284ed9a9c8b04f"

ATTACH = """mutation($image: ID!, $type: EvidenceType!, $document: String!, $signature: String) {
  attachEvidence(image: $image, type: $type, document: $document, signature: $signature) {
    evidence { type format digest verified keyName documentSha256 }
    image { id evidence { signatures { keyName verified dockerReference }
      vulnerabilities { scanner critical high medium low unknown fixableCritical fixableHigh ids }
      provenance { builderId buildType sourceRepository sourceCommit verified keyName }
      sbom { format packageCount packages { name version licenses } } } }
    errors { code message field } } }"""
CREATE_KEY = """mutation($name: String!, $key: String!) {
  createSigningKey(name: $name, publicKey: $key) {
    signingKey { name algorithm fingerprint } errors { code message field } } }"""


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def sample(name: str, for_digest: str | None = None) -> str:
    """A checked-in sample, its digest replaced by `for_digest` (another image's)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    if for_digest is None:
        return text
    named = GRYPE_DIGEST if name == "grype.json" else SAMPLE_DIGEST
    return text.replace(named.removeprefix("sha256:"), for_digest.removeprefix("sha256:"))


class Signer:
    """An ECDSA P-256 key pair, as `cosign generate-key-pair` makes."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, data: bytes) -> str:
        """base64 of the ASN.1 DER ECDSA signature over SHA-256(data) (`cosign sign --key`)."""
        return base64.b64encode(self.private.sign(data, ec.ECDSA(hashes.SHA256()))).decode()

    def envelope(
        self, statement: dict[str, Any], payload_type: str = "application/vnd.in-toto+json"
    ) -> str:
        body = json.dumps(statement).encode()
        return json.dumps(
            {
                "payloadType": payload_type,
                "payload": base64.b64encode(body).decode(),
                "signatures": [{"keyid": "", "sig": self.sign(pae(payload_type, body))}],
            }
        )


def simple_signing(image_digest: str, reference: str = "registry.example.com/shop") -> str:
    """cosign's payload for an image, byte for byte as cosign writes it."""
    return json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": reference},
                "image": {"docker-manifest-digest": image_digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    )


async def image_with_digest(world: World, tag: str, image_digest: str) -> int:
    async with unit_of_work():
        image = await catalog.register_image(
            SYSTEM,
            "shop",
            "main",
            f"registry.example.com/shop:{tag}",
            image_digest,
            [],
            [catalog.GitCommitSpec("https://git.example.com/shop", "main")],
            "builder@example.com",
        )
    return image.id


async def attach(
    world: World,
    image: int,
    kind: str,
    document: str,
    signature: str | None = None,
    who: str = "builder",
) -> dict[str, Any]:
    data = await world.gql(
        ATTACH,
        {
            "image": global_id("Image", image),
            "type": kind,
            "document": document,
            "signature": signature,
        },
        token=world.tokens[who],
    )
    payload: dict[str, Any] = data["attachEvidence"]
    return payload


async def register_key(world: World, name: str, signer: Signer) -> dict[str, Any]:
    data = await world.gql(CREATE_KEY, {"name": name, "key": signer.public_pem}, token=world.admin)
    payload: dict[str, Any] = data["createSigningKey"]
    assert payload["errors"] == [], payload
    return payload


async def sign_image(world: World, image: int, image_digest: str, signer: Signer) -> dict[str, Any]:
    payload = simple_signing(image_digest)
    return await attach(world, image, "SIGNATURE", payload, signer.sign(payload.encode()))
