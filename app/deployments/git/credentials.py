"""A target's credential: a file of HOIST_GIT_CREDENTIALS_DIR (a mounted secret), handed
to one git process at a time and never written anywhere else.

- https (and http): the file holds `username:token` on one line. git asks for them through
  GIT_ASKPASS, which points at a small script of Hoist's that prints them from two
  environment variables of that one git process: nothing in argv (which `ps` shows), in
  the repository URL or in the copy's .git/config.
- ssh: the file is a private key (mode 0400 or 0600, or ssh refuses it). ssh uses that
  key only (IdentitiesOnly) and checks the host against `known_hosts` in the same folder
  (StrictHostKeyChecking=yes: an unknown host key fails the deployment rather than being
  trusted on first use; write the file with `ssh-keyscan host >> known_hosts`).

Every message about a git command goes through `Git.clean`, which removes the token
(defence in depth: git is not asked to print it, but a remote may echo it back).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import urlsplit

from app.catalog.git_target import GitTarget
from app.deployments.git.command import Git

_ASKPASS = """#!/bin/sh
# Hoist's GIT_ASKPASS: the credential of this one git process, from its environment.
case "$1" in
  Username*) printf '%s\\n' "$HOIST_GIT_USERNAME" ;;
  *) printf '%s\\n' "$HOIST_GIT_PASSWORD" ;;
esac
"""


class CredentialError(Exception):
    """The credential a target names cannot be used (missing, empty, badly formed)."""


def askpass_script(workdir: Path) -> Path:
    """Hoist's askpass script in the working-copy folder (written once, owner-only)."""
    script = workdir / "askpass.sh"
    if not script.exists() or script.read_text() != _ASKPASS:
        workdir.mkdir(parents=True, exist_ok=True)
        temporary = script.with_suffix(".tmp")
        temporary.write_text(_ASKPASS)
        temporary.chmod(0o700)
        temporary.replace(script)
    return script


def git_for(target: GitTarget, credentials_dir: Path | None, workdir: Path, timeout: float) -> Git:
    """How to run git for `target`: with its credential, if it names one."""
    if target.credential is None:
        return Git(timeout)
    if credentials_dir is None:
        raise CredentialError(
            f"credential {target.credential!r} is named, but HOIST_GIT_CREDENTIALS_DIR is not set"
        )
    path = credentials_dir / target.credential
    if not path.is_file():
        raise CredentialError(
            f"credential {target.credential!r}: no such file in HOIST_GIT_CREDENTIALS_DIR"
        )
    scheme = urlsplit(target.repository).scheme
    if scheme in ("https", "http"):
        return _https(target.credential, path, workdir, timeout)
    if scheme == "ssh":
        return _ssh(path, credentials_dir, timeout)
    raise CredentialError(
        f"credential {target.credential!r}: only https:// and ssh:// repositories take one"
    )


def _https(name: str, path: Path, workdir: Path, timeout: float) -> Git:
    lines = path.read_text().strip().splitlines()
    username, colon, token = (lines[0] if len(lines) == 1 else "").partition(":")
    if not colon or not username or not token:
        # Not even a part of the file in the message: it may be the token itself.
        raise CredentialError(f"credential {name!r} must be one line: username:token")
    env = {
        "GIT_ASKPASS": str(askpass_script(workdir)),
        "HOIST_GIT_USERNAME": username,
        "HOIST_GIT_PASSWORD": token,
    }
    return Git(timeout, env, (token, f"{username}:{token}"))


def _ssh(key: Path, credentials_dir: Path, timeout: float) -> Git:
    known_hosts = credentials_dir / "known_hosts"
    command = " ".join(
        [
            "ssh",
            f"-i {shlex.quote(str(key))}",
            "-o IdentitiesOnly=yes",
            "-o BatchMode=yes",
            "-o StrictHostKeyChecking=yes",
            f"-o UserKnownHostsFile={shlex.quote(str(known_hosts))}",
        ]
    )
    return Git(timeout, {"GIT_SSH_COMMAND": command})
