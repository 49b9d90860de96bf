"""Every benchmark script runs in its `--smoke` mode (toy sizes, one round), so none can
rot unnoticed: a renamed function, a changed query or schema, a broken start-up fails
here. The scripts run as subprocesses, the way a person runs them, all at once (the
module's wall time is about the slowest one's). Their figures are printed, never checked:
tests assert no timings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import stop_group, tail
from tests.support.services import reachable, require, require_program

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
# A bound for a failure (a hung script), far above a smoke run's few seconds.
FINISH_WITHIN_SECONDS = 240.0


@dataclass(frozen=True)
class Script:
    argv: tuple[str, ...]  # after the interpreter, from the project root
    expect: str  # printed by a run that got to its end
    stack: bool = False  # needs PostgreSQL and redis-server (the whole stack)


SCRIPTS = {
    "cel.py": Script(("bench/cel.py", "--smoke"), "cached is"),
    "emails.py": Script(("bench/emails.py", "--smoke"), "server received"),
    "queries.py": Script(("bench/queries.py", "--smoke"), "SQL statements per list request"),
    "deployable.py": Script(("bench/deployable.py", "--smoke"), "(1 is flat)"),
    "insights.py": Script(("bench/insights.py", "--smoke"), "done"),
    "live.py": Script(("bench/live.py", "--smoke"), "processes and database removed", stack=True),
    "load.py": Script(
        ("bench/load.py", "--smoke"), "invariant promoted without their quorum", stack=True
    ),
    # --explain too: the EXPLAIN path rebuilds the app's SQL, the first to break.
    "promotion": Script(
        ("-m", "bench.promotion", "--smoke", "--explain"),
        "processes and database removed",
        stack=True,
    ),
    "ceiling": Script(
        ("-m", "bench.ceiling", "--smoke"), "processes and database removed", stack=True
    ),
}


def stack_available() -> bool:
    return reachable("127.0.0.1", 5432) and shutil.which("redis-server") is not None


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[subprocess.Popen[bytes], Path]]]:
    """Start the smoke run of every script whose test was selected (all of them, unless
    `-k` picks some) at once; stopped (process group) on the way out."""
    folder = tmp_path_factory.mktemp("bench-smoke")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    env["PYTHONPATH"] = str(ROOT)
    with_stack = stack_available()
    # This module's parametrized test only: the session holds every module's items.
    selected = {
        item.callspec.params["name"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == test_bench_script_runs_in_smoke_mode.__name__
    }
    started: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for name, script in SCRIPTS.items():
        if name not in selected:
            continue
        if script.stack and not with_stack:
            continue  # its test skips (or fails under HOIST_TEST_REQUIRE_SERVICES=1)
        log = folder / f"{name}.log"
        with log.open("wb") as out:
            started[name] = (
                subprocess.Popen(
                    [sys.executable, *script.argv],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
                log,
            )
    yield started
    for process, _ in started.values():
        stop_group(process)


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_bench_script_runs_in_smoke_mode(
    name: str, runs: dict[str, tuple[subprocess.Popen[bytes], Path]]
) -> None:
    script = SCRIPTS[name]
    if script.stack:
        require("PostgreSQL", "127.0.0.1", 5432)
        require_program("redis-server")
    process, log = runs[name]
    try:
        status = process.wait(timeout=FINISH_WITHIN_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"{name} --smoke still running after {FINISH_WITHIN_SECONDS:.0f} s:\n{tail(log)}"
        )
    output = log.read_text(errors="replace")
    print(output)  # the figures, for whoever reads the test log (-s)
    assert status == 0, f"{name} --smoke exited with {status}:\n{tail(log)}"
    assert script.expect in output, f"{name} --smoke did not get to its end:\n{tail(log)}"
    assert "Traceback" not in output, tail(log)


def test_every_bench_script_has_a_smoke_run() -> None:
    """A new benchmark is added to SCRIPTS (with a --smoke mode), or this fails."""
    scripts = {p.name for p in BENCH.glob("*.py")} | {
        p.parent.name for p in BENCH.glob("*/__main__.py")
    }
    assert scripts == set(SCRIPTS)
    for name, script in SCRIPTS.items():
        assert "--smoke" in script.argv, name
