"""The `hoist` command: server commands (serve, migrate, admin) and API client commands.

The client commands live in one module per concept (users, catalog, apply, policies,
promote, deploy) and share app/cli/api.py: the GraphQL call, flag parsing and output.
"""

from __future__ import annotations

import sys

import typer

from app.cli import (
    api,
    apply,
    catalog,
    deploy,
    evidence,
    operations,
    policies,
    promote,
    server,
    users,
    verbs,
    watch,
    windows,
)

cli = typer.Typer(
    help="Hoist: promote container images across environments under promotion policies. "
    "Client commands read HOIST_URL and HOIST_TOKEN and take -o json for scripts. "
    + api.EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
server.register(cli)
promote.register(cli)
deploy.register(cli)
for name, group in verbs.GROUPS.items():
    cli.add_typer(group, name=name)
cli.add_typer(apply.apply, name="apply")
operations.register(cli)  # retry, resend; and `get jobs`, `get notifications`
# Imported for the commands they add to the verb groups.
__all__ = ["catalog", "cli", "evidence", "main", "policies", "users", "watch", "windows"]


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
