"""Hoist's working copies: one per repository and branch under HOIST_GIT_WORKDIR, kept
between deployments (a fetch instead of a clone each time), used by one deployment at a
time across every process on the host (an flock on a lock file next to the copy).

A copy is never trusted as it was left: a worker SIGKILLed mid-edit leaves a changed file,
an unpushed commit, or git's own `index.lock`. Before each use the copy is brought back to
the remote branch exactly (fetch, checkout -f, reset --hard, clean -ffdx), lock files git
left behind are removed (under the flock nobody else can be using them), and a copy that
git cannot read or reset is deleted and cloned again. A clone goes to a temporary folder
first, so a clone cut short is never mistaken for a copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.deployments.git.command import Git, GitError

# Lock files of git's own (besides refs/**/*.lock) that a killed git leaves behind.
_GIT_LOCKS = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock")


def copy_path(workdir: Path, repository: str, branch: str) -> Path:
    """The folder of the copy of `repository` at `branch`: a readable name and a hash."""
    digest = hashlib.sha256(f"{repository}\0{branch}".encode()).hexdigest()[:16]
    stem = repository.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    name = re.sub(r"[^A-Za-z0-9._-]", "-", stem)[:40] or "repository"
    return workdir / f"{name}-{digest}"


@asynccontextmanager
async def exclusive(lock: Path) -> AsyncIterator[None]:
    """Hold an exclusive flock on `lock` (made if missing); the wait runs off the loop."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
    try:
        await asyncio.shield(waiting)
    except BaseException:
        # Cancelled while the thread still waits: it may get the lock yet, so the file is
        # closed (and the lock let go) once it returns, not under its feet.
        waiting.add_done_callback(lambda _: os.close(fd))
        raise
    try:
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _remove_stale_locks(copy: Path) -> None:
    dot_git = copy / ".git"
    for name in _GIT_LOCKS:
        with contextlib.suppress(FileNotFoundError):
            (dot_git / name).unlink()
    for stale in (dot_git / "refs").rglob("*.lock"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


async def checkout(git: Git, copy: Path, repository: str, branch: str) -> None:
    """`copy` at the remote `branch`, exactly, whatever state it was left in. Call it with
    the copy's lock held (`exclusive(lock_of(copy))`)."""
    if (copy / ".git").is_dir():
        await asyncio.to_thread(_remove_stale_locks, copy)
        if await _readable(git, copy):
            await git.run(copy, "remote", "set-url", "origin", repository)
            await fetch(git, copy, branch)  # a network failure is the deployment's: no re-clone
            try:
                await reset(git, copy, branch)
                return
            except GitError:
                pass  # objects or index git cannot use: clone again below
    await _clone(git, copy, repository, branch)


def lock_of(copy: Path) -> Path:
    return copy.with_name(copy.name + ".lock")


async def _readable(git: Git, copy: Path) -> bool:
    for args in (("rev-parse", "--verify", "HEAD"), ("status", "--porcelain")):
        code, _, _ = await git.run(copy, *args, check=False)
        if code:
            return False
    return True


async def fetch(git: Git, copy: Path, branch: str) -> None:
    refspec = f"+refs/heads/{branch}:refs/remotes/origin/{branch}"
    await git.run(copy, "fetch", "--quiet", "--no-tags", "origin", refspec)


async def reset(git: Git, copy: Path, branch: str) -> None:
    """The copy's files, index and branch as the fetched remote branch says; nothing else."""
    await git.run(copy, "checkout", "--quiet", "--force", "-B", branch, f"origin/{branch}")
    await git.run(copy, "reset", "--quiet", "--hard", f"origin/{branch}")
    await git.run(copy, "clean", "--quiet", "-ffdx")


async def _clone(git: Git, copy: Path, repository: str, branch: str) -> None:
    partial = copy.with_name(copy.name + ".partial")
    await asyncio.to_thread(_remove, copy, partial)
    copy.parent.mkdir(parents=True, exist_ok=True)
    await git.run(
        copy.parent,
        "clone",
        "--quiet",
        "--no-tags",
        "--single-branch",
        "--branch",
        branch,
        "--",
        repository,
        str(partial),
    )
    partial.rename(copy)


def _remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
