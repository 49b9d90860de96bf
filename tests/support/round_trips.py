"""Counting the round trips a process makes to Postgres: a TCP proxy that reads the wire.

`RoundTripCounter` listens on a free port and forwards every connection to Postgres. It
reads the frontend (client) messages as they pass: each simple query ('Q'), each Sync
('S', which ends an extended-protocol batch: bind, execute) and each Flush ('H', which
ends asyncpg's prepare: parse, describe) is one round trip, the client waiting for the
server's answer before it goes on. So BEGIN,
COMMIT, SAVEPOINT, a prepare on a statement-cache miss and the pool's reset on release
are counted as much as the data statements are: what the ORM's log shows is only part.

It runs its own event loop in a thread, so a test may block (a synchronous HTTP call,
`eventually`) while the server it started talks to Postgres through it. Run as a module
(`python -m tests.support.round_trips --port 5432`) it is a process of its own, for
bench/ceiling: it prints `listening <port>`, then answers each line read on stdin with
the number of round trips so far. It never
changes a byte of the conversation; it answers the client's SSL request itself with a
refusal (asyncpg asks for SSL first, then goes on in plain text), since it reads no TLS.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from tests.support.services import POSTGRES_URL

_SSL_REQUEST, _GSSENC_REQUEST = 80877103, 80877104
_LABEL = 160  # characters of SQL kept per round trip, for a failing test's message
# How a round trip that only prepared a statement starts (see RoundTripCounter.trips).
PREPARE = "prepare "


@dataclass
class _Wire:
    """One client connection's frontend state: prepared statement names, the batch so far."""

    statements: dict[str, str] = field(default_factory=dict)
    batch: list[str] = field(default_factory=list)
    awaiting: int = 0  # queries and Syncs sent and not yet answered by ReadyForQuery
    flushed: bool = False  # a Flush was the last message: the client awaits its answer


def _cstring(body: bytes, start: int) -> tuple[str, int]:
    end = body.index(b"\0", start)
    return body[start:end].decode(errors="replace"), end + 1


class RoundTripCounter:
    """A counting proxy to Postgres at `upstream` (host, port); use as a context manager."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._lock = threading.Lock()
        self._trips: list[str] = []
        self._wires: list[_Wire] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    def __enter__(self) -> RoundTripCounter:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def url(self, database_url: str) -> str:
        """`database_url` (a postgres:// URL) pointed at this proxy instead."""
        parts = urlsplit(database_url)
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))

    def trips(self) -> list[str]:
        """Every round trip so far, oldest first, each as the SQL it carried (shortened).

        A trip that only prepared a statement (asyncpg's Parse, Describe, Flush on its
        statement cache's miss) starts with PREPARE; the statement's execution is the
        next trip. Each pooled connection prepares each statement once."""
        with self._lock:
            return list(self._trips)

    def count(self) -> int:
        """How many round trips so far."""
        with self._lock:
            return len(self._trips)

    def idle(self) -> bool:
        """No round trip sent is still waiting for its answer."""
        with self._lock:
            return all(wire.awaiting == 0 and not wire.flushed for wire in self._wires)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.upstream)
        wire = _Wire()
        with self._lock:
            self._wires.append(wire)
        await self._start_up(client_r, client_w, server_w)
        pipes = [
            asyncio.create_task(self._frontend(client_r, server_w, wire)),
            asyncio.create_task(self._backend(server_r, client_w, wire)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
                self._pipes.discard(task)
            for writer in (client_w, server_w):
                writer.close()
            with self._lock:
                self._wires.remove(wire)

    @staticmethod
    async def _start_up(
        client_r: asyncio.StreamReader,
        client_w: asyncio.StreamWriter,
        server_w: asyncio.StreamWriter,
    ) -> None:
        """The untyped packets first: the proxy itself refuses SSL and GSS encryption
        ('N': it reads plain bytes only), then the startup message goes through, after
        which both sides send typed messages."""
        while True:
            head = await client_r.readexactly(4)
            body = await client_r.readexactly(struct.unpack("!i", head)[0] - 4)
            if struct.unpack("!i", body[:4])[0] not in (_SSL_REQUEST, _GSSENC_REQUEST):
                server_w.write(head + body)
                await server_w.drain()
                return
            client_w.write(b"N")
            await client_w.drain()

    async def _frontend(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: _Wire
    ) -> None:
        while True:
            head = await reader.readexactly(5)
            body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
            self._read_frontend(head[:1], body, wire)
            writer.write(head + body)
            await writer.drain()

    def _read_frontend(self, kind: bytes, body: bytes, wire: _Wire) -> None:
        wire.flushed = False  # the client went on: it had the answer to its Flush
        if kind == b"P":
            name, at = _cstring(body, 0)
            sql, _ = _cstring(body, at)
            wire.statements[name] = sql
            wire.batch.append(f"{PREPARE}{sql}")
        elif kind == b"B":
            _, at = _cstring(body, 0)
            name, _ = _cstring(body, at)
            wire.batch.append(wire.statements.get(name, "?"))
        elif kind in (b"Q", b"S", b"H"):
            label = _cstring(body, 0)[0] if kind == b"Q" else " | ".join(wire.batch)
            wire.batch.clear()
            with self._lock:
                if kind == b"H":  # asyncpg's prepare: Parse, Describe, Flush, then waits
                    wire.flushed = True
                else:
                    wire.awaiting += 1
                self._trips.append(" ".join(label.split())[:_LABEL])

    async def _backend(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: _Wire
    ) -> None:
        while True:
            head = await reader.readexactly(5)
            body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
            if head[:1] == b"Z":
                with self._lock:
                    wire.awaiting = max(0, wire.awaiting - 1)
            writer.write(head + body)
            await writer.drain()


@contextmanager
def counting_proxy(database_url: str = POSTGRES_URL) -> Iterator[RoundTripCounter]:
    """A RoundTripCounter in front of the Postgres server of `database_url`."""
    parts = urlsplit(database_url)
    with RoundTripCounter((parts.hostname or "127.0.0.1", parts.port or 5432)) as counter:
        yield counter


def _serve_counts(upstream: tuple[str, int]) -> None:
    with RoundTripCounter(upstream) as counter:
        print(f"listening {counter.port}", flush=True)
        for _ in sys.stdin:  # until the reader closes stdin
            print(counter.count(), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Count round trips to Postgres, as a proxy.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    options = parser.parse_args()
    _serve_counts((options.host, options.port))
