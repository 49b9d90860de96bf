"""DSSE (Dead Simple Signing Envelope, v1): the pre-authentication encoding and envelope
verification, shared by the provenance Hoist is given (app/supplychain) and the promotion
records Hoist signs (app/attestation).

An envelope is ``{"payloadType": T, "payload": base64(body), "signatures": [{"keyid": K,
"sig": base64(sig)}]}``; each signature is over ``PAE(T, body)``, never over the JSON.
The cryptography is the ``cryptography`` package's; nothing here is hand-rolled.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

# What a signature check is given: the public key objects `cryptography` loads from PEM.
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
# What Hoist signs its own promotion records with (app/attestation/keys.py).
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def public_key_der(key: PublicKey) -> bytes:
    """The key's DER SubjectPublicKeyInfo: what key ids and fingerprints are digests of."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_pem(key: PublicKey) -> str:
    """The key as a SubjectPublicKeyInfo PEM (-----BEGIN PUBLIC KEY-----)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body)
    SP body, lengths as ASCII decimal byte counts."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def verify_signature(public_key: PublicKey, signature: bytes, data: bytes) -> bool:
    """True when `signature` is `public_key`'s over `data`: ECDSA (ASN.1 DER) and RSA
    (PKCS#1 v1.5, else PSS) with SHA-256, or Ed25519 — what cosign and DSSE signers make."""
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            try:
                public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)
                public_key.verify(signature, data, pss, hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


class EnvelopeError(ValueError):
    """The envelope is not DSSE; `field` names the part that is wrong."""

    def __init__(self, message: str, field: str = "envelope") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Verified:
    """An envelope's decoded body, and the name of the first key whose signature holds
    (None: no signature verifies with any key given)."""

    payload_type: str
    payload: bytes
    key: str | None


def b64decode(text: object, field: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE allows either)."""
    if not isinstance(text, str):
        raise EnvelopeError(f"{field} must be a base64 string", field)
    compact = "".join(text.split())
    try:
        alphabet = "-_" if ("-" in compact or "_" in compact) else "+/"
        return base64.b64decode(compact + "=" * (-len(compact) % 4), altchars=alphabet.encode())
    except (binascii.Error, ValueError) as error:
        raise EnvelopeError(f"{field} is not valid base64", field) from error


def is_envelope(document: object) -> bool:
    return isinstance(document, dict) and "payloadType" in document and "payload" in document


def verify_envelope(
    envelope: dict[str, Any],
    public_keys: Iterable[tuple[str, PublicKey]],
    check: Callable[[PublicKey, bytes, bytes], bool] = verify_signature,
) -> Verified:
    """Decode a DSSE envelope and check its signatures against (name, key) pairs.

    Raises EnvelopeError for a malformed envelope; an envelope whose signatures verify
    with none of the keys is returned with ``key=None`` (it is still a readable body).
    """
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise EnvelopeError("payloadType must be a non-empty string", "payloadType")
    payload = b64decode(envelope.get("payload"), "payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("signatures must be a non-empty list", "signatures")
    decoded = []
    for i, entry in enumerate(signatures[:16]):  # more signers than that is no real envelope
        if not isinstance(entry, dict):
            raise EnvelopeError("a signature must be an object", f"signatures[{i}]")
        decoded.append(b64decode(entry.get("sig"), f"signatures[{i}].sig"))
    message = pae(payload_type, payload)
    for name, key in public_keys:
        if any(check(key, signature, message) for signature in decoded):
            return Verified(payload_type, payload, name)
    return Verified(payload_type, payload, None)


def sign_envelope(
    payload_type: str, payload: bytes, private_key: PrivateKey, keyid: str
) -> dict[str, Any]:
    """An envelope of `payload` with one signature by `private_key`, named `keyid`:
    ECDSA P-256 with SHA-256 (DER), or Ed25519."""
    message = pae(payload_type, payload)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(message)
    else:
        signature = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode()}],
    }


def verified_payload(envelope: dict[str, Any], public_key: PublicKey) -> bytes:
    """The body of `envelope` when one of its signatures verifies with `public_key`;
    raises EnvelopeError otherwise (whatever the keyids say: they are only hints)."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("the envelope must be a JSON object")
    verified = verify_envelope(envelope, [("key", public_key)])
    if verified.key is None:
        raise EnvelopeError("no signature verifies with the key", "signatures")
    return verified.payload
