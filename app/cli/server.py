"""Commands that run Hoist itself, straight against the database."""

from __future__ import annotations

import asyncio
import logging

import typer
from tortoise import Tortoise

from app import db
from app.settings import get_settings

admin = typer.Typer(help="Administration straight against the database.", no_args_is_help=True)


def configure_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def migrate() -> None:
    """Apply database migrations."""
    configure_logging()
    asyncio.run(db.migrate())
    typer.echo("migrations applied")


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Apply migrations and serve GraphQL (and GraphiQL) at /graphql."""
    import uvicorn

    from app.asgi import create_app

    configure_logging()
    asyncio.run(db.migrate())
    typer.echo(f"Hoist serving at http://{host}:{port}/graphql")
    uvicorn.run(create_app(), host=host, port=port, log_level=get_settings().log_level.lower())


def worker(
    concurrency: int = typer.Option(2, help="Worker processes."),
    beat: bool = typer.Option(True, help="Also run the periodic outbox relay (one worker only)."),
) -> None:
    """A standalone Celery worker for HOIST_BROKER_URL (redis://...)."""
    settings = get_settings()
    if not settings.broker_url:
        typer.echo("error: set HOIST_BROKER_URL (e.g. redis://127.0.0.1:6379/0); without it "
                   "`hoist serve` runs the worker in-process", err=True)
        raise typer.Exit(2)
    from workers.celery_app import celery

    db.ensure_data_dir(settings)
    argv = ["worker", f"--loglevel={settings.log_level.upper()}",
            f"--concurrency={concurrency}", "--pool=prefork"]
    if beat:
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    celery.worker_main(argv)


@admin.command("bootstrap")
def bootstrap(
    email: str = typer.Option(..., "--email", help="Email of the first super-admin."),
    name: str | None = typer.Option(None, "--name", help="Display name (default: from email)."),
) -> None:
    """Create (or promote) a super-admin and print a new API token as the last line."""
    from app.accounts.service import bootstrap_super_admin
    from app.errors import DomainError

    async def run() -> tuple[str, str]:
        await db.migrate()
        await Tortoise.init(config=db.tortoise_config())
        try:
            async with db.unit_of_work():
                user, secret = await bootstrap_super_admin(email, name)
            return user.email, secret
        finally:
            await Tortoise.close_connections()

    try:
        user_email, secret = asyncio.run(run())
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"super-admin {user_email} is ready; API token (shown once):")
    typer.echo(secret)


def register(cli: typer.Typer) -> None:
    cli.command()(migrate)
    cli.command()(serve)
    cli.command()(worker)
    cli.add_typer(admin, name="admin")
