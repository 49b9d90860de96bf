"""The multiprocess folder: how several processes' metrics add up to one scrape.

prometheus_client keeps each process's values in files of PROMETHEUS_MULTIPROC_DIR (one
per metric kind and process id) when that variable is set as it is *imported*; /metrics
reads every file there and sums them. So the commands that start Hoist's processes
(`hoist serve`, `hoist worker`: app/cli/server.py) call `use_metrics_dir` before they
import anything that imports prometheus_client; the processes they fork or spawn
(uvicorn's `--workers`, Celery's pool) inherit the variable. A process started any other
way (a test, `hoist admin`) keeps its metrics in memory, as prometheus_client does by
default.

Cleaning: files whose process is no longer running are removed when a serving command
starts, never those of a process still running. So a restarted `hoist serve` does not
count a previous run again, and a `hoist worker` started beside a running server (one
folder on one machine) leaves the server's counts alone. Counters of a process that
exits while the others run (a pool child replaced, a server process restarted by
uvicorn) stay until then, so totals never go backwards in between. Hoist keeps no
per-process gauge in the folder (its gauges are read from the database at each scrape),
so nothing needs `mark_process_dead`.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

from app.settings import Settings

log = logging.getLogger("hoist.metrics")

ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client's file names: counter_123.db, histogram_123.db, gauge_livesum_123.db.
_FILE = re.compile(r"[a-z_]+_(?P<pid>\d+)\.db")


def use_metrics_dir(settings: Settings) -> Path:
    """Make this process and its children keep their metrics in the metrics folder, after
    removing the files of processes that have stopped; the folder."""
    if "prometheus_client" in sys.modules and os.environ.get(ENV) is None:
        # Too late for this process: its values stay in memory (a bug of the caller).
        log.warning("prometheus_client was imported before the metrics folder was set")
    folder = settings.resolved_metrics_dir
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_files(folder)
    os.environ[ENV] = str(folder)
    return folder


def remove_stale_files(folder: Path) -> int:
    """Remove the files of processes not running (this one's too: it has written nothing
    yet, so a file of its id is from an earlier process that had it); how many."""
    removed = 0
    for file in folder.glob("*.db"):
        found = _FILE.fullmatch(file.name)
        if found is None:
            continue
        pid = int(found["pid"])
        if pid != os.getpid() and _running(pid):
            continue
        file.unlink(missing_ok=True)
        removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: running
        return True
    return True


def multiprocess_dir() -> Path | None:
    """The folder this process's metrics are kept in; None: in memory."""
    value = os.environ.get(ENV)
    return Path(value) if value else None
