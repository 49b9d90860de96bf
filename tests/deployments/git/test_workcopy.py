"""Working copies, serialisation, recovery and redaction, on real repositories (no
database: publish.deploy is what the executor calls once it has read the deployment)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.catalog.git_target import GitEdit
from app.deployments.git import publish, workcopy
from app.deployments.git.command import Git, GitError
from app.deployments.git.credentials import CredentialError, git_for
from app.deployments.git.yamltext import EditError
from tests.deployments.git.conftest import target_for
from tests.support.git_remote import Remote, git
from tests.support.waiting import eventually

AUTHOR = publish.Author("Hoist Bot", "hoist@example.com")
SHOP = "registry.example.com/shop"


async def push(
    remote: Remote, workdir: Path, tag: str, edit: GitEdit = GitEdit.KUSTOMIZE
) -> publish.Pushed:
    target = target_for(str(remote.path), edit)
    return await publish.deploy(
        Git(30), workdir, target, f"{SHOP}:{tag}", f"Deploy {tag}", AUTHOR, attempts=3
    )


async def test_concurrent_deployments_to_one_repository_take_turns(
    remote: Remote, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    results = await asyncio.gather(
        push(remote, work, "1.0", GitEdit.KUSTOMIZE),
        push(remote, work, "1.0", GitEdit.HELM_VALUES),
        push(remote, work, "1.0", GitEdit.MANIFEST),
    )
    assert all(r.committed for r in results)
    assert remote.count() == 4
    assert "tag: '1.0'" in remote.show("deploy/values.yaml")
    assert 'newTag: "1.0"' in remote.show("deploy/kustomization.yaml")


def _flock_waiters(lock: Path) -> int:
    """How many processes wait for an flock on `lock` (the `->` lines of /proc/locks)."""
    inode = os.stat(lock).st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if "->" in line and line.split()[-3].endswith(f":{inode}"))


async def test_a_deployment_waits_for_another_process_holding_the_copy(
    remote: Remote, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    await push(remote, work, "1.0")
    lock = workcopy.lock_of(workcopy.copy_path(work, str(remote.path), "main"))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX);"
            " print('held', flush=True); sys.stdin.read()",
            str(lock),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        waiting = asyncio.create_task(push(remote, work, "1.1"))

        async def queued() -> bool:  # async: the loop runs (the wait is off it) meanwhile
            return await asyncio.to_thread(_flock_waiters, lock) == 1

        await eventually(queued, "the deployment waiting for the lock")
        assert not waiting.done() and remote.count() == 2
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert (await waiting).committed and remote.count() == 3


async def test_a_copy_git_cannot_read_is_cloned_again(remote: Remote, tmp_path: Path) -> None:
    work = tmp_path / "work"
    await push(remote, work, "1.0")
    copy = workcopy.copy_path(work, str(remote.path), "main")
    (copy / ".git" / "HEAD").write_text("garbage\n")
    (copy / "stray.txt").write_text("left by a killed run")
    assert (await push(remote, work, "1.1")).committed
    assert remote.count() == 3 and not (copy / "stray.txt").exists()
    assert git(copy, "status", "--porcelain") == ""


async def test_a_half_written_file_and_a_stale_index_lock_are_swept(
    remote: Remote, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    await push(remote, work, "1.0")
    copy = workcopy.copy_path(work, str(remote.path), "main")
    (copy / "deploy/kustomization.yaml").write_text("images:\n  - name: reg")
    (copy / ".git/index.lock").write_text("")
    (copy / "junk").mkdir()
    pushed = await push(remote, work, "1.1")
    assert pushed.committed and remote.count() == 3
    assert remote.changed_lines() == [
        '-      newTag: "1.0"    # the tag in production',
        '+      newTag: "1.1"    # the tag in production',
    ]


async def test_a_symbolic_link_is_not_followed_out_of_the_copy(
    remote: Remote, tmp_path: Path
) -> None:
    clone = remote.clone(tmp_path / "other")
    (clone / "deploy/link.yaml").symlink_to("/etc/hostname")
    git(clone, "add", ".")
    git(clone, "commit", "--quiet", "-m", "A link")
    git(clone, "push", "--quiet", "origin", "HEAD:main")
    target = target_for(str(remote.path), GitEdit.HELM_VALUES, path="deploy/link.yaml")
    with pytest.raises(EditError, match="symbolic link"):
        await publish.deploy(Git(30), tmp_path / "w", target, f"{SHOP}:1", "m", AUTHOR, 1)


async def test_a_missing_branch_fails_with_gits_words(remote: Remote, tmp_path: Path) -> None:
    target = target_for(str(remote.path)).__class__(
        **{**target_for(str(remote.path)).__dict__, "branch": "release"}
    )
    with pytest.raises(GitError, match="release"):
        await publish.deploy(Git(30), tmp_path / "w", target, f"{SHOP}:1", "m", AUTHOR, 1)


async def test_secrets_are_redacted_from_what_git_says(tmp_path: Path) -> None:
    secret = "tok/en+42"
    runner = Git(30, secrets=(secret,))
    git(tmp_path, "init", "--quiet")
    with pytest.raises(GitError) as raised:
        await runner.run(tmp_path, "show", f"origin/{secret}")
    assert secret not in str(raised.value) and secret not in raised.value.output
    assert "***" in str(raised.value)
    # Its URL-encoded form too (as it would appear in a URL).
    assert runner.clean("https://u:tok%2Fen%2B42@host/") == "https://u:***@host/"


def test_credentials_by_scheme(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "forge").write_text("deployer:tok-1\n")
    (secrets / "deploy-key").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (secrets / "broken").write_text("only-a-token-9\n")
    https = git_for(
        target_for("https://git.example.com/d.git", credential="forge"), secrets, tmp_path, 5
    )
    assert https.env["HOIST_GIT_PASSWORD"] == "tok-1" and "tok-1" in https.secrets
    askpass = Path(https.env["GIT_ASKPASS"])
    env = {
        "HOIST_GIT_USERNAME": "deployer",
        "HOIST_GIT_PASSWORD": "tok-1",
        "PATH": os.environ["PATH"],
    }

    def ask(prompt: str) -> str:
        run = subprocess.run([askpass, prompt], env=env, capture_output=True, text=True)
        return run.stdout

    assert ask("Username for 'https://git.example.com': ") == "deployer\n"
    assert ask("Password for 'https://deployer@git.example.com': ") == "tok-1\n"
    ssh = git_for(
        target_for("ssh://git@git.example.com/d.git", credential="deploy-key"), secrets, tmp_path, 5
    )
    command = ssh.env["GIT_SSH_COMMAND"]
    assert f"-i {secrets / 'deploy-key'}" in command and "IdentitiesOnly=yes" in command
    assert f"UserKnownHostsFile={secrets / 'known_hosts'}" in command
    assert "StrictHostKeyChecking=yes" in command
    with pytest.raises(CredentialError) as bad:
        git_for(
            target_for("https://git.example.com/d.git", credential="broken"), secrets, tmp_path, 5
        )
    assert "only-a-token-9" not in str(bad.value)
    with pytest.raises(CredentialError, match="no such file"):
        git_for(target_for("https://h/d.git", credential="nope"), secrets, tmp_path, 5)
