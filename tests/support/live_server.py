"""The real server as a subprocess (`hoist serve`), for end-to-end tests of HTTP clients.

Use the `live_server` fixture (module-scoped: one server per test module) by importing
it into a conftest.py. It runs the embedded default: a SQLite file in a fresh data
folder, the in-process worker, no Redis.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.services import free_port
from tests.support.waiting import TimedOut, eventually

HOIST = Path(sys.executable).with_name("hoist")  # the venv's console script
# Bounds a failure only: `--workers N` processes start slowly on a busy machine.
READY_WITHIN_SECONDS = 60.0
STOP_WITHIN_SECONDS = 10.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    token: str  # a super-admin's
    data_dir: Path
    # The `hoist serve` process (the benchmarks read its CPU time from /proc).
    process: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)

    def env(self, **extra: str) -> dict[str, str]:
        """An environment for `hoist` client commands against this server."""
        return {
            **server_env(self.data_dir),
            "HOIST_URL": self.url,
            "HOIST_TOKEN": self.token,
            **extra,
        }


def server_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without its HOIST_ settings (a developer's database or
    broker must not leak in), pointed at `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    env["HOIST_DATA_DIR"] = str(data_dir)
    env["HOIST_LOG_LEVEL"] = "WARNING"
    return env


def _wait_until_ready(
    process: subprocess.Popen[bytes], url: str, log: Path, within: float = READY_WITHIN_SECONDS
) -> None:
    """Poll /healthz until it answers, the process dies, or time runs out (readiness, not sync)."""

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"hoist serve exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            return httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False  # not listening yet

    try:
        eventually(healthy, "hoist serve answering /healthz", within)
    except TimedOut as exc:
        raise RuntimeError(f"{exc}:\n{log.read_text()[-3000:]}") from None


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_WITHIN_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # `--workers N` children outlive a killed parent: none may be left (own session).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def hoist(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the `hoist` command to its end with no HOIST_ settings but a data folder (and
    `env`), its output captured."""
    return subprocess.run(
        [str(HOIST), *args],
        env={**server_env(data_dir), **env},
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bootstrap_admin(data_dir: Path, email: str = "admin@example.com", **settings: str) -> str:
    """`hoist admin bootstrap`; the token is the last line it prints."""
    result = hoist("admin", "bootstrap", "--email", email, data_dir=data_dir, **settings)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class _Template:
    folder: Path
    token: str  # its super-admin's


_template: _Template | None = None  # this test process's


def _migrated_template() -> _Template:
    """A migrated database with a bootstrapped super-admin and nothing else, made once
    per test process by `hoist admin bootstrap` (removed at exit). Each embedded server's
    fresh data folder starts with a copy, so no start spends its seconds migrating an
    empty file and bootstrapping: what Hoist does on a new database is tested by
    tests/test_setup.py and tests/cli/test_admin.py, which start from nothing."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="hoist-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _template = _Template(folder, bootstrap_admin(folder))
    return _template


def _seeded(data_dir: Path, settings: dict[str, str]) -> str | None:
    """For an embedded server (no database URL) whose folder holds no database yet: the
    template's database copied in, and its super-admin's token; None otherwise."""
    if "HOIST_DATABASE_URL" in settings or any(data_dir.glob("hoist.sqlite3*")):
        return None
    template = _migrated_template()
    for file in template.folder.glob("hoist.sqlite3*"):
        shutil.copy2(file, data_dir / file.name)
    return template.token


@contextmanager
def running_server(
    data_dir: Path,
    *,
    args: Sequence[str] = (),
    ready_within: float = READY_WITHIN_SECONDS,
    **settings: str,
) -> Iterator[LiveServer]:
    """`hoist serve` on a free port with extra HOIST_ `settings` (a database URL, a broker)
    and extra command-line `args` (bench/ceiling's `--workers`, whose processes take
    longer to start: `ready_within`), and a bootstrapped super-admin; stopped on exit."""
    log = data_dir / "server.log"
    token = _seeded(data_dir, settings)
    # A free port can be taken between asking and binding; a second try settles that.
    for attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            # cwd is the data folder, so a developer's .env in the checkout is not read.
            process = subprocess.Popen(
                [str(HOIST), "serve", "--port", str(port), *args],
                env={**server_env(data_dir), **settings},
                cwd=data_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_ready(process, url, log, ready_within)
            break
        except RuntimeError:
            _stop(process)
            if attempt == 2 or "address already in use" not in log.read_text():
                raise
    try:
        if token is None:
            token = bootstrap_admin(data_dir, **settings)
        yield LiveServer(url=url, token=token, data_dir=data_dir, process=process)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default: SQLite in a fresh data folder, the in-process worker."""
    with running_server(tmp_path_factory.mktemp("live-server")) as server:
        yield server
