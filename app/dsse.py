"""DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md).

A signature covers the Pre-Authentication Encoding of the payload type and the payload,
never the base64 text, so a verifier needs nothing but the envelope and the key. Keys are
ECDSA P-256 (SHA-256, DER signatures, as cosign and in-toto tooling make them) or Ed25519.
Crypto is `cryptography`'s; nothing here is hand-rolled.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class EnvelopeError(ValueError):
    """The envelope is malformed, or no signature in it verifies with the key."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 PAE: b"DSSEv1" SP len(type) SP type SP len(body) SP body (lengths in ASCII
    decimal, of the UTF-8 bytes)."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def _sign(key: PrivateKey, message: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def _verify(key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sign_envelope(
    payload_type: str, payload: bytes, private_key: PrivateKey, keyid: str
) -> dict[str, Any]:
    """An envelope of `payload` with one signature by `private_key`, named `keyid`."""
    signature = _sign(private_key, pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode()}],
    }


def _b64(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"{field} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{field} is not valid base64") from None


def verify_envelope(envelope: dict[str, Any], public_key: PublicKey) -> bytes:
    """The payload of `envelope` when one of its signatures verifies with `public_key`;
    raises EnvelopeError otherwise (whatever the keyids say: they are only hints)."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("the envelope must be a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise EnvelopeError("payloadType must be a string")
    payload = _b64(envelope.get("payload"), "payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("signatures must be a non-empty list")
    message = pae(payload_type, payload)
    for i, entry in enumerate(signatures):
        if not isinstance(entry, dict):
            raise EnvelopeError(f"signatures[{i}] must be an object")
        if _verify(public_key, _b64(entry.get("sig"), f"signatures[{i}].sig"), message):
            return payload
    raise EnvelopeError("no signature verifies with the key")
