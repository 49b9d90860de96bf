"""Which process holds which TCP connection, read from /proc (Linux): a test of `hoist serve
--workers N` finds the processes that served it without the API telling.

Every process here is the test's own (same user), so their fd tables are readable.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from tests.support.waiting import eventually

PROC = Path("/proc")
LISTEN, ESTABLISHED = "0A", "01"  # the `st` column of /proc/net/tcp


@dataclass(frozen=True)
class Socket:
    local_port: int
    remote_port: int
    state: str
    inode: int


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for stat in PROC.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid ...: comm may hold spaces and parentheses.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def tcp_sockets() -> list[Socket]:
    """Every TCP socket of this network namespace (IPv4 and IPv6)."""
    sockets = []
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                sockets.append(
                    Socket(
                        int(local.rsplit(":", 1)[1], 16),
                        int(remote.rsplit(":", 1)[1], 16),
                        state,
                        int(inode),
                    )
                )
    return sockets


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets among `pid`'s open files."""
    inodes = set()
    with contextlib.suppress(OSError):  # the process may be gone
        for fd in (PROC / str(pid) / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def holders(pids: list[int], wanted: list[Socket]) -> set[int]:
    """Which of `pids` hold one of the `wanted` sockets."""
    inodes = {s.inode for s in wanted}
    return {pid for pid in pids if socket_inodes(pid) & inodes}


def listening_on(pids: list[int], port: int) -> set[int]:
    """Which of `pids` hold the socket listening on `port` (a server's processes)."""
    return holders(pids, [s for s in tcp_sockets() if s.state == LISTEN and s.local_port == port])


def serving(pids: list[int], port: int, client_port: int) -> set[int]:
    """Which of `pids` hold the server end of the connection from `client_port` to `port`."""
    ends = [
        s
        for s in tcp_sockets()
        if s.state == ESTABLISHED and s.local_port == port and s.remote_port == client_port
    ]
    return holders(pids, ends)


def connected_to(pids: list[int], port: int) -> set[int]:
    """Which of `pids` hold an open connection to `port` (a client of the server there)."""
    ends = [s for s in tcp_sockets() if s.state == ESTABLISHED and s.remote_port == port]
    return holders(pids, ends)


def server_processes(parent: int, port: int, count: int, timeout: float = 60.0) -> list[int]:
    """The `count` serving children of `hoist serve --workers` (uvicorn's supervisor, pid
    `parent`): those that hold its listening socket, once all of them do. (The others
    hold none: multiprocessing's resource tracker.)"""
    found: list[int] = []

    def all_listening() -> bool:
        found[:] = sorted(listening_on(children(parent), port))
        return len(found) == count

    eventually(all_listening, f"{count} server processes listening on {port}", timeout)
    return found
