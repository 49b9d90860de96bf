"""One git deployment: edit the target's file on the branch's head, commit, push; when
someone else pushed in between, fetch, edit the new head again and push again.

    lock the copy → check it out at origin/<branch> → edit → same text? done, no commit
                  → commit → push → accepted? done
                  → refused: fetch; the branch moved? again (bounded); else FAILED

A refusal is told apart by what the remote holds, not by git's words: the branch still at
the commit Hoist edited means the remote refused the commit itself (a hook, a protected
branch), and git's message is the reason; a branch that moved is a race to retry.

Running twice is harmless (the outbox may: a worker killed after the push, before its
database commit): the second run finds the image written and makes no commit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from app.catalog.git_target import GitTarget
from app.deployments.git import edits, workcopy
from app.deployments.git.command import Git, GitError, summary
from app.deployments.git.yamltext import EditError

MAX_FILE_BYTES = 5_000_000


@dataclass(frozen=True)
class Author:
    name: str
    email: str


@dataclass(frozen=True)
class Pushed:
    """The outcome: the branch's commit that holds the image, and whether Hoist made it."""

    sha: str
    committed: bool


async def deploy(
    git: Git,
    workdir: Path,
    target: GitTarget,
    reference: str,
    message: str,
    author: Author,
    attempts: int,
) -> Pushed:
    """Write `reference` to `target` and push; GitError or EditError says why not."""
    copy = workcopy.copy_path(workdir, target.repository, target.branch)
    async with workcopy.exclusive(workcopy.lock_of(copy)):
        await workcopy.checkout(git, copy, target.repository, target.branch)
        for attempt in range(attempts):
            if attempt:
                await workcopy.reset(git, copy, target.branch)  # the fetched, moved head
            base = await _head(git, copy)
            file = _file(copy, target.path)
            text = await asyncio.to_thread(_read, file, target)
            edited = edits.apply(target, text, reference)
            if edited == text:
                return Pushed(base, committed=False)
            await asyncio.to_thread(_write, file, edited)
            await _commit(git, copy, target.path, message, author)
            code, out, err = await git.run(
                copy,
                "push",
                "--porcelain",
                "origin",
                f"HEAD:refs/heads/{target.branch}",
                check=False,
            )
            if code == 0:
                return Pushed(await _head(git, copy), committed=True)
            await workcopy.fetch(git, copy, target.branch)
            if await _head(git, copy, f"origin/{target.branch}") == base:
                raise GitError(f"push to {target.branch} refused: {summary(err + out)}")
        raise GitError(
            f"push to {target.branch} failed {attempts} times: others kept pushing to it "
            "first (HOIST_GIT_PUSH_ATTEMPTS)"
        )


async def _head(git: Git, copy: Path, ref: str = "HEAD") -> str:
    _, out, _ = await git.run(copy, "rev-parse", "--verify", f"{ref}^{{commit}}")
    return out.strip()


def _file(copy: Path, path: str) -> Path:
    """The target's file in the copy; never one a symlink leads out of it."""
    file = copy / path
    if file.is_symlink() or not file.resolve().is_relative_to(copy.resolve()):
        raise EditError(f"{path} is a symbolic link: Hoist edits regular files only")
    return file


def _read(file: Path, target: GitTarget) -> str:
    if not file.is_file():
        raise EditError(f"{target.path} is not a file on branch {target.branch}")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise EditError(f"{target.path} is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    with file.open(encoding="utf-8", newline="") as f:  # newline="": CRLF stays CRLF
        try:
            return f.read()
        except UnicodeDecodeError:
            raise EditError(f"{target.path} is not UTF-8 text") from None


def _write(file: Path, text: str) -> None:
    with file.open("w", encoding="utf-8", newline="") as f:
        f.write(text)


async def _commit(git: Git, copy: Path, path: str, message: str, author: Author) -> None:
    identity = Git(
        git.timeout,
        {
            **git.env,
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": author.name,
            "GIT_COMMITTER_EMAIL": author.email,
        },
        git.secrets,
    )
    await identity.run(copy, "add", "--", path)
    await identity.run(copy, "commit", "--quiet", "--no-verify", "-m", message, "--", path)
