"""The `hoist` command: server commands (serve, migrate, admin) and API client commands."""

from __future__ import annotations

import sys

import typer

from app.cli import client, server

cli = typer.Typer(
    help="Hoist: promote container images across environments under promotion policies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
server.register(cli)
client.register(cli)


def _split_short_equals(argv: list[str]) -> list[str]:
    """Accept `-p=path` (the seed's form) as well as `-p path`; click reads `-p=x` as '=x'."""
    out: list[str] = []
    for arg in argv:
        if len(arg) > 3 and arg[0] == "-" and arg[1] != "-" and arg[2] == "=":
            out.extend([arg[:2], arg[3:]])
        else:
            out.append(arg)
    return out


def main() -> None:
    cli(args=_split_short_equals(sys.argv[1:]), prog_name="hoist")
