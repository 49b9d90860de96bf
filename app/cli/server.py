"""Commands that run Hoist itself, straight against the database."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer
from pydantic import ValidationError

from app.settings import Settings, get_settings, served_url

# The ORM is imported inside the commands that use it: every `hoist` client command loads
# this module too, and Tortoise alone would double their start-up time.

admin = typer.Typer(help="Administration straight against the database.", no_args_is_help=True)


def configure_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def checked_settings() -> Settings:
    """The settings, or a one-line error per bad HOIST_ variable (named, its value not
    echoed: it may be a password) and exit code 2 instead of a traceback."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "HOIST_" + "_".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"error: {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from None


def database_in_use() -> Path | None:
    """Say (on stderr) which database this command uses; the SQLite file it is about to
    create, if there is none yet, is returned so that `created_database` can say so."""
    from app import db

    url = get_settings().resolved_database_url
    file = db.sqlite_file(url)
    if file is not None and not file.exists():
        return file
    typer.echo(f"database: {db.describe_database(url)}", err=True)
    return None


def created_database(file: Path | None, hint: bool = False) -> None:
    if file is None or not file.exists():
        return
    typer.echo(f"database: created a new, empty SQLite database at {file.resolve()}", err=True)
    if hint:
        # The usual slip: bootstrapping from another folder than the server runs in, where
        # the relative default data folder is a different, new one.
        settings = get_settings()
        typer.echo(
            f"note: no HOIST_DATABASE_URL is set and the data folder is "
            f"{settings.data_dir} (relative to {Path.cwd()}); if your server uses "
            "another database, run this where it runs or set HOIST_DATA_DIR or "
            "HOIST_DATABASE_URL as it has them",
            err=True,
        )


def migrate() -> None:
    """Apply database migrations."""
    from app import db

    checked_settings()
    configure_logging()
    new = database_in_use()
    asyncio.run(db.migrate())
    created_database(new)
    typer.echo("migrations applied")


def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on.  [default: HOIST_HOST, else 127.0.0.1]"
    ),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port to listen on.  [default: HOIST_PORT, else 8000]"
    ),
) -> None:
    """Apply migrations and serve GraphQL (and GraphiQL) at /graphql."""
    settings = checked_settings()  # first: importing the app reads the settings
    import uvicorn

    from app import db
    from app.asgi import create_app

    # Before anything reads public_url: links in emails must follow the address served.
    settings.serve_at(host or settings.host, port or settings.port)
    configure_logging()
    new = database_in_use()
    asyncio.run(db.migrate())
    created_database(new)
    typer.echo(
        f"Hoist serving at {served_url(settings.host, settings.port)}/graphql "
        f"(listening on {settings.host}:{settings.port}; links in emails: "
        f"{settings.public_url})"
    )
    uvicorn.run(
        create_app(),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_keep_alive=settings.keep_alive_seconds,
    )


def worker(
    concurrency: int = typer.Option(2, help="Worker processes."),
    beat: bool = typer.Option(True, help="Also run the periodic outbox relay (one worker only)."),
) -> None:
    """A standalone Celery worker for HOIST_BROKER_URL (redis://...)."""
    settings = checked_settings()
    if not settings.broker_url:
        typer.echo(
            "error: set HOIST_BROKER_URL (e.g. redis://127.0.0.1:6379/0); without it "
            "`hoist serve` runs the worker in-process",
            err=True,
        )
        raise typer.Exit(2)
    from app import db
    from workers.celery_app import celery

    db.ensure_data_dir(settings)
    missing = database_in_use()
    if missing is not None:  # the worker migrates nothing: `hoist serve` / `hoist migrate` do
        typer.echo(
            f"database: SQLite file {missing.resolve()} (not there yet: `hoist serve` "
            "or `hoist migrate` creates it)",
            err=True,
        )
    argv = [
        "worker",
        f"--loglevel={settings.log_level.upper()}",
        f"--concurrency={concurrency}",
        "--pool=prefork",
    ]
    if beat:
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    celery.worker_main(argv)


@admin.command("bootstrap")
def bootstrap(
    email: str = typer.Option(..., "--email", help="Email of the first super-admin."),
    name: str | None = typer.Option(None, "--name", help="Display name (default: from email)."),
) -> None:
    """Create (or promote) a super-admin and print a new API token as the last line."""
    from tortoise import Tortoise

    from app import db
    from app.accounts.service import bootstrap_super_admin
    from app.errors import DomainError

    checked_settings()
    new = database_in_use()

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
    finally:
        created_database(new, hint=True)
    typer.echo(f"super-admin {user_email} is ready; API token (shown once):")
    typer.echo(secret)


def register(cli: typer.Typer) -> None:
    cli.command()(migrate)
    cli.command()(serve)
    cli.command()(worker)
    cli.add_typer(admin, name="admin")
