"""cosign's key-based image signature: the "simple signing" payload and its signature.

`cosign sign --key` signs the payload bytes as they are (ECDSA P-256 over their SHA-256,
ASN.1 DER, base64): the payload names the image's manifest digest under
critical.image.docker-manifest-digest. Hoist checks the signature against every
registered key with `cryptography`; one that none verifies is kept, unverified.
"""

from __future__ import annotations

from app.dsse import EnvelopeError, b64decode, verify_signature
from app.images import sha256_digest
from app.supplychain.documents import DocumentError, get, obj, parse_json, text
from app.supplychain.parsed import Keys, Parsed

PAYLOAD_TYPE = "cosign container image signature"
MAX_SIGNATURE = 4096  # base64 of a DER ECDSA signature is ~96 characters; RSA-4096 ~700


def read_signature(document: str, signature: str | None, keys: Keys) -> Parsed:
    if not signature or not signature.strip():
        raise DocumentError(
            "a signature needs its base64 signature (the `signature` argument)", "signature"
        )
    if len(signature) > MAX_SIGNATURE:
        raise DocumentError(f"signature may be at most {MAX_SIGNATURE} characters", "signature")
    try:
        raw = b64decode(signature, "signature")
    except EnvelopeError as error:
        raise DocumentError(str(error), "signature") from error
    payload = obj(parse_json(document), "")
    critical = get(payload, "critical", "", dict)
    kind = get(critical, "type", "critical", str)
    if kind != PAYLOAD_TYPE:
        raise DocumentError(f"critical.type must be {PAYLOAD_TYPE!r}", "critical.type")
    image = get(critical, "image", "critical", dict)
    manifest = get(image, "docker-manifest-digest", "critical.image", str)
    digest = sha256_digest(manifest)
    if digest is None:
        raise DocumentError(
            "critical.image.docker-manifest-digest must be sha256:<64 hex digits>",
            "critical.image.docker-manifest-digest",
        )
    identity = critical.get("identity")
    reference = text(identity.get("docker-reference")) if isinstance(identity, dict) else None
    # The signature is over the bytes sent, exactly: cosign signs the payload file as is.
    data = document.encode("utf-8")
    key_name = next((name for name, key in keys if verify_signature(key, raw, data)), None)
    return Parsed(
        "cosign",
        [digest],
        "critical.image.docker-manifest-digest",
        {"dockerReference": reference},
        verified=key_name is not None,
        key_name=key_name,
    )
