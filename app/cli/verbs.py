"""The verb groups of the client commands (`hoist create ...`, `hoist get ...`); each
concept's module adds its commands to them."""

from __future__ import annotations

import typer

create = typer.Typer(help="Create objects on the server.", no_args_is_help=True)
get = typer.Typer(help="Show objects (-o json for scripts).", no_args_is_help=True)
delete = typer.Typer(help="Delete objects.", no_args_is_help=True)
update = typer.Typer(help="Change objects.", no_args_is_help=True)
grant = typer.Typer(help="Grant a role.", no_args_is_help=True)
revoke = typer.Typer(help="Revoke a role or an API token.", no_args_is_help=True)
register = typer.Typer(help="Record what CI built.", no_args_is_help=True)
record = typer.Typer(help="Report what CI/CD did.", no_args_is_help=True)
attach = typer.Typer(help="Attach evidence to what CI built.", no_args_is_help=True)
wait = typer.Typer(help="Wait for an object to reach a state.", no_args_is_help=True)
watch = typer.Typer(help="Print live changes as they happen (over SSE).", no_args_is_help=True)

GROUPS = {
    "create": create,
    "get": get,
    "delete": delete,
    "update": update,
    "grant": grant,
    "revoke": revoke,
    "register": register,
    "record": record,
    "attach": attach,
    "wait": wait,
    "watch": watch,
}
