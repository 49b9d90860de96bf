"""Hoist's own signing key for promotion records (issue 20, item 5).

The key is HOIST_SIGNING_KEY_FILE when set (it must exist: a missing secret must not quietly
become a new key nobody trusts), else `hoist-signing-key.pem` in HOIST_DATA_DIR, made at
first start: ECDSA P-256, PKCS#8 PEM, mode 0600.

Two processes starting at once (the server and a worker, two workers) must end with one
key. The file is written complete under a temporary name and then hard-linked into place:
`link()` fails when the name exists, so exactly one process wins, and the loser reads the
winner's file, which is whole by then (an O_EXCL create would let the loser read it
half-written).

The key id is the hex SHA-256 of the public key's DER SubjectPublicKeyInfo, so anyone
holding the published PEM can compute it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from app.dsse import PrivateKey, PublicKey, public_key_der, public_key_pem
from app.settings import get_settings


class SigningKeyError(RuntimeError):
    """The configured key file is missing, unreadable or not a supported private key."""


@dataclass(frozen=True)
class SigningKey:
    private_key: PrivateKey
    public_key: PublicKey
    key_id: str
    public_pem: str


def _key_id(public_key: PublicKey) -> str:
    return hashlib.sha256(public_key_der(public_key)).hexdigest()


def _load(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise SigningKeyError(f"cannot read the signing key {path}: {error.strerror}") from None
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key: {error}") from None
    if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
        raise SigningKeyError(f"{path}: an ECDSA key must be on P-256")
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: the key must be ECDSA P-256 or Ed25519")
    public = key.public_key()
    return SigningKey(key, public, _key_id(public), public_key_pem(public))


def _generate(path: Path) -> None:
    """Write a new key at `path` unless another process got there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: theirs is used
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


_lock = threading.Lock()
_cache: dict[Path, SigningKey] = {}


def signing_key() -> SigningKey:
    """Hoist's signing key, loaded (or first made) once per process and path."""
    settings = get_settings()
    path = settings.resolved_signing_key_file
    with _lock:
        if path not in _cache:
            if not path.exists():
                if settings.signing_key_file is not None:
                    raise SigningKeyError(f"HOIST_SIGNING_KEY_FILE {path} does not exist")
                _generate(path)
            _cache[path] = _load(path)
        return _cache[path]
