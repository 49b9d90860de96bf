"""Hoist's signing key (issue 20, item 5): made once at first start, whoever starts first,
mode 0600; or configured."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.attestation import keys
from app.dsse import sign_envelope, verified_payload
from tests.notifications.helpers import configure

PRINT_KEY_ID = (
    "import sys; from app.attestation.keys import signing_key; "
    "sys.stdin.readline(); print(signing_key().key_id)"
)


def test_two_processes_starting_at_once_make_one_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    env["HOIST_DATA_DIR"] = str(tmp_path / "data")
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_KEY_ID],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    # Both have imported everything and wait on stdin; released together, they race.
    outputs = [p.communicate("go\n", timeout=60)[0].strip() for p in starts]
    assert all(p.returncode == 0 for p in starts)
    path = tmp_path / "data" / "hoist-signing-key.pem"
    assert outputs[0] == outputs[1] == keys._load(path).key_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_racing_writers_leave_exactly_one_whole_key(tmp_path: Path) -> None:
    path = tmp_path / "hoist-signing-key.pem"
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys._generate(path)  # below the process's lock: only link() decides

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first = keys._load(path)
    keys._generate(path)  # a later start keeps it
    assert keys._load(path).key_id == first.key_id
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_configured_key_is_used_and_a_missing_one_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ed25519.pem"
    private = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    configure(monkeypatch, signing_key_file=path)
    key = keys.signing_key()
    assert key.public_key.public_bytes_raw() == private.public_key().public_bytes_raw()
    envelope = sign_envelope("text/plain", b"hello", key.private_key, key.key_id)
    assert verified_payload(envelope, private.public_key()) == b"hello"

    configure(monkeypatch, signing_key_file=tmp_path / "missing.pem")
    with pytest.raises(keys.SigningKeyError, match="does not exist"):
        keys.signing_key()
    assert not (tmp_path / "missing.pem").exists()  # not quietly made

    (tmp_path / "junk.pem").write_text("not a key")
    configure(monkeypatch, signing_key_file=tmp_path / "junk.pem")
    with pytest.raises(keys.SigningKeyError, match="not an unencrypted PEM private key"):
        keys.signing_key()
