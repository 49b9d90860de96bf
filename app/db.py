"""Tortoise configuration, migrations, and the boundary transaction with after-commit hooks."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from pypika_tortoise.dialects.postgresql import PostgreSQLQueryBuilder
from pypika_tortoise.dialects.sqlite import SQLLiteQueryBuilder
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import (
    BaseORMException,
    ConfigurationError,
    OperationalError,
    TransactionManagementError,
)
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.models import Model
from tortoise.queryset import ValuesListQuery
from tortoise.transactions import in_transaction

from app import clock
from app.settings import Settings, get_settings

T = TypeVar("T")

MODEL_MODULES = [
    "app.accounts.models",
    "app.catalog.models",
    "app.supplychain.models",
    "app.policies.models",
    "app.promotions.models",
    "app.windows.models",
    "app.outbox.models",
    "app.audit.models",
    "app.deployments.models",
    "app.notifications.models",
    "app.webhooks.models",
    "app.attestation.models",
]


async def _keep_session(connection: object) -> None:
    """asyncpg's pool runs this instead of its default reset when a connection goes back.

    The default (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) is
    one round trip per release, half of those of a read request. It undoes session state
    that Hoist never creates: no session-level advisory locks (the outbox's job claim is
    `pg_try_advisory_xact_lock`, released with its transaction, and row locks end with
    theirs too), no LISTEN, no cursors (asyncpg's `cursor()` is not
    used; a query's rows are fetched whole), no SET or set_config (no session setting is
    changed after connect). asyncpg still rolls back a transaction left open before this
    runs (Connection._reset), whatever reset is configured, and drops its listeners.
    """


def _connection(url: str) -> str | dict[str, Any]:
    """The URL, or for asyncpg (Postgres) its expanded form with the pool's `reset`."""
    try:
        config = expand_db_url(url)
    except ConfigurationError:
        return url  # Tortoise says what is wrong with it when it connects, as before
    if config["engine"] != "tortoise.backends.asyncpg":
        return url
    config["credentials"]["reset"] = _keep_session
    return config


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    """The Tortoise config for `database_url` (default: the settings' database)."""
    url = database_url or get_settings().resolved_database_url
    return {
        "connections": {"default": _connection(url)},
        "apps": {
            "hoist": {
                "models": MODEL_MODULES,
                "migrations": "app.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    """`tortoise -c app.db.TORTOISE_ORM makemigrations` reads TORTOISE_ORM. It is built when
    read, not at import, so that a bad HOIST_ setting is reported by the command that uses
    it (as one line, app/cli/server.py) rather than as a traceback of `import app.db`."""
    if name == "TORTOISE_ORM":
        return tortoise_config()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sqlite_file(database_url: str) -> Path | None:
    """The file a SQLite URL names (as Tortoise reads it), or None for another database."""
    scheme, _, rest = database_url.partition("://")
    if scheme != "sqlite":
        return None
    path = rest.split("?", 1)[0]
    return None if path in {"", ":memory:"} else Path(path)


def is_sqlite(database_url: str) -> bool:
    """A SQLite database (a file or in memory), which one process at a time may write."""
    return database_url.partition("://")[0] == "sqlite"


def describe_database(database_url: str) -> str:
    """Which database a URL is, for people: a SQLite file's full path, or the URL with its
    password masked (in the user part or a `password=` parameter), never the password.

    Taken apart by hand, not with urllib, so that a URL urllib refuses (an unencoded `@` or
    `/` in the password, a bad port) still has its password masked rather than printed.
    """
    file = sqlite_file(database_url)
    if file is not None:
        return f"SQLite file {file.resolve()}"
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        return "a database URL without a scheme://"
    rest, qmark, query = rest.partition("?")
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    params = [p.split("=", 1) for p in query.split("&")] if query else []
    query = "&".join(
        f"{p[0]}=***" if p[0].lower() in {"password", "pass"} else "=".join(p) for p in params
    )
    return f"{scheme}://{userinfo}{at}{host}{qmark}{query}"


def ensure_data_dir(settings: Settings) -> None:
    """The embedded default keeps its SQLite file (and broker folders) in the data folder."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)


async def migrate(database_url: str | None = None) -> None:
    """Apply every migration not yet applied, then close the connections it opened."""
    ensure_data_dir(get_settings())
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


# What a callback's awaitable returns is not used (a hand-over reports success, say).
AfterCommit = Callable[[], Awaitable[object]]
_after_commit: contextvars.ContextVar[list[AfterCommit] | None] = contextvars.ContextVar(
    "hoist_after_commit", default=None
)


def after_commit(callback: AfterCommit) -> None:
    """Run `callback` once the surrounding unit of work has committed (never if it rolls back)."""
    pending = _after_commit.get()
    if pending is None:
        raise RuntimeError("after_commit() called outside unit_of_work()")
    pending.append(callback)


def unit_of_work_open() -> bool:
    """Whether a unit of work is open here (so `after_commit` may be called)."""
    return _after_commit.get() is not None


@asynccontextmanager
async def _transaction() -> AsyncIterator[None]:
    """Tortoise's `in_transaction`, safe against a cancellation while it begins.

    Tortoise (1.1.9) takes the connection (SQLite: the process's transaction lock; Postgres:
    one from the pool), makes it the task's, then awaits BEGIN; a task cancelled during that
    await never reaches `__aexit__`. SQLite's lock then stays taken and every later
    transaction of the process waits for ever; a Postgres connection stays out of the pool,
    idle in its transaction. Here the half-entered transaction is rolled back and given
    back before the cancellation goes on (a client's disconnect, a timeout, a shutdown)."""
    context = in_transaction()
    try:
        await context.__aenter__()
    except BaseException as exc:
        # `token` is set once the connection is the task's (no await between the two):
        # from then on `__aexit__` rolls back, releases and resets.
        if hasattr(context, "token"):
            with contextlib.suppress(Exception):
                await context.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    try:
        yield
    except BaseException as exc:
        await context.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    await context.__aexit__(None, None, None)


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    """The transaction a door (mutation, task, command) opens; services never commit.

    Callbacks registered with `after_commit` run after a successful commit, so a job
    is never handed to a worker before the row it refers to is visible.
    """
    outer = _after_commit.get()
    if outer is not None:  # nested: the outermost unit of work owns the commit
        async with _transaction():
            yield
        return
    callbacks: list[AfterCommit] = []
    token = _after_commit.set(callbacks)
    try:
        async with _transaction():
            yield
    finally:
        _after_commit.reset(token)
    for callback in callbacks:
        await callback()


# SQLite lets one process write at a time. In WAL mode a transaction that has read cannot
# take the write lock once another process (a separate `hoist worker` on the same file)
# has written since: SQLite refuses at once with "database is locked" rather than risk a
# deadlock. The transaction was rolled back, so running it again from the start is safe.
LOCKED_TRIES = 5


def _database_locked(exc: BaseORMException) -> bool:
    return "database is locked" in str(exc)


async def in_unit_of_work(fn: Callable[[], Awaitable[T]]) -> T:
    """`fn` in a unit of work, run again (a few times, after a short pause) when SQLite
    refused it the write lock; Postgres waits for row locks instead and never gets here."""
    tries = 0
    while True:
        tries += 1
        try:
            async with unit_of_work():
                return await fn()
        except (OperationalError, TransactionManagementError) as exc:
            if not _database_locked(exc) or tries >= LOCKED_TRIES:
                raise
        await asyncio.sleep(clock.backoff(tries, 0.05, 0.5).total_seconds())


async def column(query: ValuesListQuery[Literal[False]], of: type[T]) -> list[T]:
    """The values of `query`, a `values_list(<one column>, flat=True)`, as a list of `of`.

    tortoise types every values_list as a list of tuples, whatever `flat` says; this is the
    one place that says what a flat one holds.
    """
    return cast("list[T]", await query)


M = TypeVar("M", bound=Model)


async def get_named(model: type[M], name: str, max_len: int) -> M | None:
    """The row of `model` whose unique `name` is `name`, for a lookup by name: None, with
    no query, for a name longer than the column's `max_len` (the column's own length check
    would raise a VALIDATION error where a lookup should find nothing)."""
    if len(name) > max_len:
        return None
    return await model.get_or_none(name=name)


async def insert_new(rows: Sequence[M], *unique: str) -> list[M]:
    """Insert `rows` (new instances of one model) in one multi-row INSERT, skipping each
    row that would repeat the `unique` fields (a unique constraint's) of a stored row or
    of an earlier one of `rows`; returns the rows inserted, their ids set.

    `ON CONFLICT (...) DO NOTHING` instead of catching IntegrityError: on Postgres an
    error aborts the whole transaction, so catching it needs a savepoint around every
    row (two more round trips each). Postgres and SQLite (3.35+) both take this form.
    """
    if not rows:
        return []
    model = type(rows[0])
    meta = model._meta
    db = meta.db
    fields = [f for f in meta.fields_db_projection if not meta.fields_map[f].generated]
    columns = [meta.fields_db_projection[f] for f in fields]
    conflict = [meta.fields_db_projection[f] for f in unique]
    executor = db.executor_class(model=model, db=db)
    query = db.query_class.into(meta.basetable).columns(*columns)
    values: list[Any] = []
    for row in rows:
        query = query.insert(*[executor.parameter(len(values) + i) for i in range(len(fields))])
        values.extend(meta.fields_map[f].to_db_value(getattr(row, f), row) for f in fields)
    query = query.on_conflict(*conflict).do_nothing()
    if not isinstance(query, PostgreSQLQueryBuilder | SQLLiteQueryBuilder):
        raise NotImplementedError(f"no INSERT ... RETURNING for {type(query).__name__}")
    query = query.returning(meta.db_pk_column, *conflict)
    inserted = await db.execute_query_dict(query.get_sql(), values)
    by_key = {tuple(r[c] for c in conflict): r[meta.db_pk_column] for r in inserted}
    created = []
    for row in rows:
        key = tuple(meta.fields_map[f].to_db_value(getattr(row, f), row) for f in unique)
        if key in by_key:
            row.pk = by_key.pop(key)
            row._saved_in_db = True
            created.append(row)
    return created
