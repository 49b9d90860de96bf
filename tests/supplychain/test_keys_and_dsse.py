"""Signing keys are PEM public keys of the kinds cosign and DSSE signers use, checked with
`cryptography`; DSSE's pre-authentication encoding is the spec's, byte for byte."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from app.dsse import EnvelopeError, pae, verify_envelope, verify_signature
from app.errors import DomainError
from app.supplychain.keys import parse_public_key


def pem(private: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_pae_is_the_dsse_v1_encoding() -> None:
    # The example of the DSSE v1 protocol document.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"  # lengths count bytes


def test_ecdsa_ed25519_and_rsa_keys_verify_their_own_signatures_only() -> None:
    data = b'{"critical":{}}'
    p256 = ec.generate_private_key(ec.SECP256R1())
    edwards = ed25519.Ed25519PrivateKey.generate()
    big = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signatures = {
        "ECDSA_P256": (p256, p256.sign(data, ec.ECDSA(hashes.SHA256()))),
        "ED25519": (edwards, edwards.sign(data)),
        "RSA": (big, big.sign(data, padding.PKCS1v15(), hashes.SHA256())),
    }
    for algorithm, (private, signature) in signatures.items():
        key = parse_public_key(pem(private))
        assert key.algorithm == algorithm and key.fingerprint.startswith("sha256:")
        assert verify_signature(key.key, signature, data)
        assert not verify_signature(key.key, signature, data + b" ")
        others = [s for a, (_, s) in signatures.items() if a != algorithm]
        assert not any(verify_signature(key.key, s, data) for s in others)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not a key", "publicKey is not a PEM public key (-----BEGIN PUBLIC KEY-----)"),
        (pem(ec.generate_private_key(ec.SECP384R1())), "publicKey: only the P-256 curve"),
        (
            pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
            "publicKey: an RSA key needs at least 2048 bits",
        ),
    ],
)
def test_other_keys_are_refused(text: str, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_public_key(text)
    assert refused.value.field == "publicKey" and refused.value.message.startswith(message)


def test_an_envelope_verifies_with_the_key_that_signed_its_pae() -> None:
    signer, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    body = json.dumps({"_type": "https://in-toto.io/Statement/v1"}).encode()
    kind = "application/vnd.in-toto+json"
    signature = signer.sign(pae(kind, body), ec.ECDSA(hashes.SHA256()))
    envelope = {
        "payloadType": kind,
        # URL-safe and unpadded, as some signers write it: DSSE allows both alphabets.
        "payload": base64.urlsafe_b64encode(body).decode().rstrip("="),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }
    keys = [("other", other.public_key()), ("ci", signer.public_key())]
    verified = verify_envelope(envelope, keys)
    assert (verified.payload, verified.key) == (body, "ci")
    # The signature covers the type as well as the body.
    assert verify_envelope({**envelope, "payloadType": "text/plain"}, keys).key is None
    with pytest.raises(EnvelopeError) as broken:
        verify_envelope({**envelope, "signatures": []}, keys)
    assert broken.value.field == "signatures"
