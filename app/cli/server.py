"""Commands that run Hoist itself, straight against the database."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from pydantic import ValidationError

from app.observability.multiprocess import use_metrics_dir
from app.settings import Settings, get_settings, served_url

if TYPE_CHECKING:
    from starlette.applications import Starlette

# The ORM is imported inside the commands that use it: every `hoist` client command loads
# this module too, and Tortoise alone would double their start-up time.

# How long a stopping `hoist serve` lets requests under way finish (an SSE subscription
# would otherwise hold it open for ever); WebSockets are closed by uvicorn at once.
GRACEFUL_SHUTDOWN_SECONDS = 5

# How long uvicorn's supervisor waits for a server process to answer its ping before it
# kills it as hung and starts another. A new process answers only once its imports are
# done, and uvicorn's 5 s is less than that takes on a busy 2-core machine: there, every
# new process was killed before it could serve. A hung process is rare (the ping is answered
# by a thread of its own, not the event loop), so detecting one later costs little.
HEALTHCHECK_SECONDS = 30

admin = typer.Typer(help="Administration straight against the database.", no_args_is_help=True)


def configure_logging() -> None:
    """HOIST_LOG_FORMAT and HOIST_LOG_LEVEL for everything this process logs."""
    from app.observability import logs

    logs.configure(get_settings())


def configure_tracing() -> None:
    """Traces over OTLP when an endpoint is set (app/observability/tracing.py); before the
    app is made, which adds the tracing middleware and GraphQL extension only then."""
    from app.observability import tracing

    settings = get_settings()
    tracing.configure(tracing.API_SERVICE, settings.resolved_database_url)


def say(message: str, err: bool = False) -> None:
    """Print a line for the operator; with HOIST_LOG_FORMAT=json, as a JSON object like the
    log's, so that every line a server or worker writes is one."""
    from app.observability import logs

    typer.echo(logs.line(message, "hoist.cli"), err=err)


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
    say(f"database: {db.describe_database(url)}", err=True)
    return None


def created_database(file: Path | None, hint: bool = False) -> None:
    if file is None or not file.exists():
        return
    say(f"database: created a new, empty SQLite database at {file.resolve()}", err=True)
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
    say("migrations applied")


def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on.  [default: HOIST_HOST, else 127.0.0.1]"
    ),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port to listen on.  [default: HOIST_PORT, else 8000]"
    ),
    workers: int | None = typer.Option(
        None,
        min=1,
        max=256,
        help="Server processes sharing the port (not `hoist worker`s); more than 1 needs "
        "PostgreSQL.  [default: HOIST_WORKERS, else 1]",
    ),
) -> None:
    """Apply migrations and serve GraphQL (and GraphiQL) at /graphql."""
    settings = checked_settings()  # first: importing the app reads the settings
    processes = workers or settings.workers
    given = f"--workers {workers}" if workers else f"HOIST_WORKERS={processes}"
    refuse_processes_on_sqlite(settings, processes, given)
    # Before the app's imports: they import prometheus_client, which reads the variable.
    use_metrics_dir(settings)
    import uvicorn

    from app import db

    # Before anything reads public_url: links in emails must follow the address served.
    settings.serve_at(host or settings.host, port or settings.port)
    configure_logging()
    new = database_in_use()
    asyncio.run(db.migrate())  # once, here: the processes below only serve
    created_database(new)
    say(
        f"Hoist serving at {served_url(settings.host, settings.port)}/graphql "
        f"(listening on {settings.host}:{settings.port}"
        + (f" with {processes} processes" if processes > 1 else "")
        + f"; links in emails: {settings.public_url})"
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "timeout_keep_alive": settings.keep_alive_seconds,
        # A WebSocket message (a subscription's document) is bounded as a body is.
        "ws_max_size": settings.max_body_bytes,
        # uvicorn waits for open connections before it stops, and a live subscription over
        # SSE never ends by itself: past this, what is still open is cancelled.
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        # uvicorn's lines (its access log too) go through Hoist's handler: one format, the
        # request id and trace id on each, and the redaction (app/observability/logs.py).
        "log_config": None,
    }
    if processes == 1:
        # Imported here: with several processes, only the children need the app (its
        # import is most of a process's start-up CPU).
        from app.asgi import create_app

        configure_tracing()
        uvicorn.run(create_app(), **options)
        return
    # uvicorn's supervisor binds the port once and starts (and restarts, should one die)
    # `processes` children, which import the app by name and read their settings afresh.
    os.environ.update(settings.serve_environment())
    uvicorn.run(
        f"{__name__}:served_app",
        factory=True,
        workers=processes,
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
        **options,
    )


def refuse_processes_on_sqlite(settings: Settings, processes: int, given: str) -> None:
    """Several processes writing one SQLite file get "database is locked" under load, and
    the embedded default is one process by design: refuse, before anything is created."""
    from app import db

    if processes > 1 and db.is_sqlite(settings.resolved_database_url):
        typer.echo(
            f"error: {given}: several server processes need PostgreSQL "
            "(set HOIST_DATABASE_URL=postgres://...); SQLite allows one writing process, "
            "so serve it with one (--workers 1)",
            err=True,
        )
        raise typer.Exit(2)


def served_app() -> Starlette:
    """The app of one of `hoist serve --workers N`'s processes (uvicorn calls it there):
    each process logs as the parent does and runs its own job runner (app/outbox/runner.py;
    one process at a time runs a job: app/outbox/repository.py's claim)."""
    from app.asgi import create_app

    configure_logging()
    configure_tracing()
    return create_app()


def worker(
    concurrency: int = typer.Option(2, help="Worker processes."),
    beat: bool = typer.Option(
        True, help="Also run the periodic outbox relay and sweeps (one worker only)."
    ),
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
    use_metrics_dir(settings)  # before the imports below (see `serve`)
    from app import db
    from workers.celery_app import celery

    if settings.worker_metrics_port is not None:
        from app.observability.exposition import serve_in_thread

        serve_in_thread(settings.host, settings.worker_metrics_port, settings.metrics_token)

    db.ensure_data_dir(settings)
    configure_logging()  # Celery configures it again, the same way (workers/celery_app.py)
    missing = database_in_use()
    if missing is not None:  # the worker migrates nothing: `hoist serve` / `hoist migrate` do
        say(
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
    if settings.log_format == "json":
        # Celery's start-up banner is printed, not logged: in json, every line is a record.
        argv.insert(0, "--quiet")
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
