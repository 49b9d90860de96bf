"""The bench's side of the round-trip counter: the test kit's counting proxy
(tests/support/round_trips.py, which reads the Postgres wire: each simple Query, Sync
and Flush is a round trip) run as a process of its own, so that forwarding bytes costs
the load generator no CPU. Only `hoist serve` is pointed at it (its HOIST_DATABASE_URL);
the worker talks to Postgres directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class RoundTripProxy:
    """The bench's side: the proxy process, its port, and its count."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    def url_for(self, database_url: str) -> str:
        """`database_url` (postgres://user@host:port/name) through the proxy."""
        scheme, rest = database_url.split("://", 1)
        credentials, _, path = rest.rpartition("@")
        database = path.split("/", 1)[1]
        who = f"{credentials}@" if credentials else ""
        return f"{scheme}://{who}127.0.0.1:{self.port}/{database}"

    async def count(self) -> int:
        """Round trips through the proxy so far."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"\n")
        await self.process.stdin.drain()
        return int(await self.process.stdout.readline())


@contextlib.asynccontextmanager
async def round_trip_proxy(target_host: str, target_port: int) -> AsyncIterator[RoundTripProxy]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.round_trips",
        "--host",
        target_host,
        "--port",
        str(target_port),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        if not line.startswith("listening "):
            raise RuntimeError(f"the round-trip proxy did not start: {line!r}")
        yield RoundTripProxy(process, int(line.split()[1]))
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
