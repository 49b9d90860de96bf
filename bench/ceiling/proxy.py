"""A TCP proxy in front of Postgres that counts round trips: the frontend messages that
make the client wait for the server (simple Query 'Q'; Sync 'S', which ends an
extended-protocol batch: Parse/Bind/Execute... Sync; and Flush 'H', which asyncpg sends
after Parse/Describe when it prepares a statement, then waits), after the startup packet.

It runs as a process of its own (``python -m bench.ceiling.proxy --target-port 5432``)
so that forwarding bytes costs the load generator no CPU. It prints ``listening <port>``
first; then every line read on stdin is answered with one line: the number of round
trips so far. Only `hoist serve` is pointed at it (its HOIST_DATABASE_URL); the worker
talks to Postgres directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import struct
import sys
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
ROUND_TRIP_MESSAGES = frozenset(b"QSH")


class Counter:
    def __init__(self) -> None:
        self.round_trips = 0


class FrontendParser:
    """Follows the client's byte stream message by message without holding it up: only
    each message's header (type byte, then a 4-byte length that counts itself) is read."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.startup = True  # untyped messages until the startup packet: length, code...
        self.header = b""
        self.skip = 0  # bytes of the current message's body still to pass

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.skip:
                step = min(self.skip, len(view))
                self.skip -= step
                view = view[step:]
                continue
            want = 8 if self.startup else 5
            take = want - len(self.header)
            self.header += bytes(view[:take])
            view = view[take:]
            if len(self.header) < want:
                return
            if self.startup:
                length, code = struct.unpack("!ii", self.header)
                # An SSL or GSSAPI request is followed by another untyped packet (the
                # proxy answered it itself, see `pump_client`).
                self.startup = code in (SSL_REQUEST, GSSENC_REQUEST)
                self.skip = length - 8
            else:
                kind, length = self.header[0], struct.unpack("!i", self.header[1:])[0]
                if kind in ROUND_TRIP_MESSAGES:
                    self.counter.round_trips += 1
                self.skip = length - 4
            self.header = b""


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()


async def pump_client(
    client: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    server: asyncio.StreamWriter,
    parser: FrontendParser,
) -> None:
    """Client to server, counting; an SSLRequest is refused here ('N') so that the rest of
    the connection stays plain text and can be read."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        first = await client.readexactly(8)
        length, code = struct.unpack("!ii", first)
        while code in (SSL_REQUEST, GSSENC_REQUEST) and length == 8:
            client_writer.write(b"N")
            await client_writer.drain()
            first = await client.readexactly(8)
            length, code = struct.unpack("!ii", first)
        parser.feed(first)
        server.write(first)
        while data := await client.read(65536):
            parser.feed(data)
            server.write(data)
            await server.drain()
    with contextlib.suppress(ConnectionError, OSError):
        server.close()


async def serve(target_host: str, target_port: int, counter: Counter) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            pump_client(reader, writer, up_writer, FrontendParser(counter)),
            pump(up_reader, writer),
        )

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def main(target_host: str, target_port: int) -> None:
    counter = Counter()
    server = await serve(target_host, target_port, counter)
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with server:
        while await stdin.readline():  # until the bench closes stdin
            print(counter.round_trips, flush=True)


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
        "bench.ceiling.proxy",
        "--target-host",
        target_host,
        "--target-port",
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Count Postgres round trips through a proxy.")
    parser.add_argument("--target-host", default="127.0.0.1")
    parser.add_argument("--target-port", type=int, default=5432)
    args = parser.parse_args()
    asyncio.run(main(args.target_host, args.target_port))
