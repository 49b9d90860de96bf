"""Real Git repositories for the `git` executor's tests: a bare repository as the remote,
seeded once per module and copied per test, other clones, hooks, and `git log -p`."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.services import require_program

# A clean git for the tests' own commands: no user configuration, a fixed identity.
GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Someone Else",
    "GIT_AUTHOR_EMAIL": "else@example.com",
    "GIT_COMMITTER_NAME": "Someone Else",
    "GIT_COMMITTER_EMAIL": "else@example.com",
    "LC_ALL": "C",
}


def git(cwd: Path, *args: str) -> str:
    """stdout of `git args` in `cwd`; CalledProcessError (with git's words) on failure."""
    require_program("git")
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, args, done.stdout, done.stderr)
    return done.stdout


def seed(bare: Path, files: dict[str, str], branch: str = "main") -> Path:
    """A bare repository at `bare` whose `branch` holds `files` in one commit."""
    git(bare.parent, "init", "--quiet", "--bare", f"--initial-branch={branch}", str(bare))
    work = bare.with_name(bare.name + "-seed")
    git(bare.parent, "clone", "--quiet", str(bare), str(work))
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    git(work, "add", ".")
    git(work, "commit", "--quiet", "-m", "Seed the deployment repository")
    git(work, "push", "--quiet", "origin", f"HEAD:{branch}")
    shutil.rmtree(work)
    return bare


@dataclass
class Remote:
    """A bare repository the executor pushes to, and what the test reads back from it."""

    path: Path
    branch: str = "main"

    @classmethod
    def copy_of(cls, template: Path, to: Path) -> Remote:
        shutil.copytree(template, to, symlinks=True)
        return cls(to)

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def head(self) -> str:
        return self.git("rev-parse", self.branch).strip()

    def count(self) -> int:
        return int(self.git("rev-list", "--count", self.branch))

    def show(self, path: str, ref: str | None = None) -> str:
        return self.git("show", f"{ref or self.branch}:{path}")

    def last_patch(self) -> str:
        """`git log -p` of the newest commit: message, trailers and diff, no colour."""
        return self.git("log", "-p", "-1", "--format=%an <%ae>%n%B", "--no-color", self.branch)

    def changed_lines(self, ref: str | None = None) -> list[str]:
        """The -/+ lines of the newest commit's diff (headers left out)."""
        diff = self.git("show", "--format=", "--no-color", "--unified=0", ref or self.branch)
        return [
            line
            for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]

    def clone(self, to: Path) -> Path:
        git(to.parent, "clone", "--quiet", str(self.path), str(to))
        return to

    def hook(self, name: str, script: str) -> None:
        hook = self.path / "hooks" / name
        hook.write_text("#!/bin/sh\n" + script)
        hook.chmod(0o755)


def commit_in(clone: Path, path: str, text: str, message: str) -> None:
    """Another person's commit in `clone` (not pushed)."""
    (clone / path).write_text(text)
    git(clone, "commit", "--quiet", "-am", message)
