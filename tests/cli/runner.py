"""Running `hoist` client commands against a live server: in-process (fast: no interpreter
start per command) or, where the console script itself is under test, as a subprocess.

In-process runs go through the same entry as the console script (`_split_short_equals`,
then the typer app) with the same HOIST_ environment a subprocess would get; settings
are read afresh for each run, as a new process would.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from app.cli import _split_short_equals, cli
from app.settings import get_settings
from tests.support.live_server import HOIST, LiveServer


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def hoist(server: LiveServer, cwd: Path, *args: str, **env: str) -> Run:
    """`hoist ARGS` in this process, in `cwd`, with the server's URL and token (or `env`)."""
    environment = server.env(**env)
    # Only HOIST_ variables matter to the CLI; others of this process stay as they are,
    # and HOIST_ ones of this process that the subprocess would not see are blanked.
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("HOIST_")}
    overrides.update({k: v for k, v in environment.items() if k.startswith("HOIST_")})
    get_settings.cache_clear()
    try:
        with contextlib.chdir(cwd):
            result = CliRunner().invoke(
                cli,
                _split_short_equals(list(args)),
                env=overrides,
                prog_name="hoist",
                catch_exceptions=False,
            )
    finally:
        get_settings.cache_clear()
    return Run(result.exit_code, result.stdout, result.stderr)


def hoist_process(server: LiveServer, cwd: Path, *args: str, **env: str) -> Run:
    """`hoist ARGS` as a user runs it: the console script, in a process of its own."""
    result = subprocess.run(
        [str(HOIST), *args],
        env=server.env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


def succeeded(result: Run) -> str:
    assert (result.returncode, result.stderr) == (0, ""), result
    return result.stdout


def as_json(result: Run) -> Any:
    return json.loads(succeeded(result))


def failed(result: Run, status: int, *phrases: str) -> str:
    """stderr of a command that must fail with `status`, saying each phrase, no traceback."""
    assert result.returncode == status, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "", result.stdout  # nothing that looks like success
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    return result.stderr
