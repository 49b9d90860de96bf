"""The metrics folder's cleaning at start: files of stopped processes go, live ones' stay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.observability.multiprocess import remove_stale_files


def test_only_files_of_stopped_processes_are_removed(tmp_path: Path) -> None:
    stopped = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(stopped.stdout)
    alive = os.getppid()  # pytest's parent: running, and not this process
    for pid in (dead, alive, os.getpid()):
        for kind in ("counter", "histogram", "gauge_livesum"):
            (tmp_path / f"{kind}_{pid}.db").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not prometheus_client's")

    assert remove_stale_files(tmp_path) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{kind}_{alive}.db" for kind in ("counter", "histogram", "gauge_livesum")] + ["notes.txt"]
    )
