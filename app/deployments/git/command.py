"""Running `git` without blocking the event loop: an asyncio subprocess per command, a
timeout each, a clean environment, and every word it says redacted of the secrets in use.

The environment is built from scratch: no user or system git configuration (a credential
helper there could store the token; an `insteadOf` could send it elsewhere), no terminal
prompt (a missing credential fails instead of hanging a worker), messages in English (so
Hoist can tell a rejected push from a declined one), and hooks off in Hoist's copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# Options every command gets: no hooks of the working copy, no pager, no colour.
_OPTIONS = ("-c", "core.hooksPath=/dev/null", "-c", "color.ui=false", "-c", "core.pager=cat")
_REDACTED = "***"


class GitError(Exception):
    """A git command failed (or timed out); the message is redacted already."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (and its URL-encoded form) replaced by ***."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, _REDACTED)
    return text


@dataclass(frozen=True)
class Git:
    """How to run git for one target: environment additions and the secrets to redact."""

    timeout: float
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()

    def environment(self) -> dict[str, str]:
        base = {name: os.environ[name] for name in ("PATH", "TMPDIR") if name in os.environ}
        return {
            **base,
            "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/false",  # replaced by credentials.py for https targets
            "SSH_ASKPASS": "/bin/false",
            "LC_ALL": "C",
            "LANGUAGE": "C",
            **self.env,
        }

    def clean(self, text: str) -> str:
        return redact(text, self.secrets)

    async def run(self, cwd: Path, *args: str, check: bool = True) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of `git args` in `cwd`, redacted; GitError on a
        failure when `check`, or on a timeout (the process is killed)."""
        process = await asyncio.create_subprocess_exec(
            "git",
            *_OPTIONS,
            *args,
            cwd=cwd,
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), self.timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise GitError(f"git {args[0]} did not finish within {self.timeout:g} s") from None
        stdout = self.clean(out.decode(errors="replace"))
        stderr = self.clean(err.decode(errors="replace"))
        code = process.returncode
        assert code is not None
        if check and code:
            raise GitError(f"git {args[0]} failed: {summary(stderr or stdout)}", stderr)
        return code, stdout, stderr


def summary(output: str, most: int = 600) -> str:
    """git's own words in one line: its error and remote lines, the noise dropped."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    kept = [
        line
        for line in lines
        if not line.startswith(("hint:", "To ", "Enumerating", "Counting", "Writing", "Delta"))
    ] or lines
    text = " / ".join(kept)
    return text if len(text) <= most else text[: most - 1] + "…"
