"""Public keys a super-admin registers, against which signatures and DSSE envelopes verify."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from app.dsse import PublicKey, public_key_der, public_key_pem
from app.errors import validation

# A PEM public key is under 1 KB (RSA 4096: 800 characters); 8 KB leaves room for comments.
MAX_PEM = 8 * 1024
_MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class ParsedKey:
    algorithm: str  # ECDSA_P256, ED25519 or RSA
    key: PublicKey
    fingerprint: str  # "sha256:" + hex of the DER SubjectPublicKeyInfo
    pem: str  # normalised (SubjectPublicKeyInfo PEM)


def parse_public_key(text: str, field: str = "publicKey") -> ParsedKey:
    """A PEM public key: ECDSA P-256 (cosign's default), Ed25519 or RSA of 2048 bits or more."""
    if len(text) > MAX_PEM:
        raise validation(f"{field} may be at most {MAX_PEM} characters long", field)
    try:
        key = serialization.load_pem_public_key(text.strip().encode("utf-8"))
    except (ValueError, TypeError, UnicodeError) as error:
        raise validation(
            f"{field} is not a PEM public key (-----BEGIN PUBLIC KEY-----)", field
        ) from error
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise validation(f"{field}: only the P-256 curve is accepted for ECDSA", field)
        algorithm = "ECDSA_P256"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        algorithm = "ED25519"
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise validation(f"{field}: an RSA key needs at least {_MIN_RSA_BITS} bits", field)
        algorithm = "RSA"
    else:
        raise validation(f"{field}: use an ECDSA P-256, Ed25519 or RSA key", field)
    fingerprint = "sha256:" + hashlib.sha256(public_key_der(key)).hexdigest()
    return ParsedKey(algorithm, key, fingerprint, public_key_pem(key))
