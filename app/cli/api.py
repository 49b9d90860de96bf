"""What every `hoist` client command shares: the GraphQL call, flag parsing and output.

Client commands are an API client like any script: they POST GraphQL to `<url>/graphql`
with `Authorization: Bearer <token>` and never touch the database, so they work against a
remote server and obey the same permissions. Hence no import of services or the ORM in
any client module (tests/cli/test_layers.py checks it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import pydantic
import typer

from app.settings import get_settings

# Exit status, the same for every client command (and listed in `hoist --help`).
EXIT_REFUSED = 1
EXIT_USAGE = 2  # click's own usage errors exit 2 as well
EXIT_AUTH = 3
EXIT_UNREACHABLE = 4
EXIT_CODES = (
    "Exit status of the client commands: 0 done; 1 refused (by the server, a manifest the "
    "server would refuse, or one item of several that failed: every message on stderr, "
    "and nothing written unless the command says which items were done); 2 bad usage "
    "(a flag value, an unreadable file); 3 not signed in or not allowed; 4 no usable "
    "answer from the server."
)

TIMEOUT_SECONDS = 30.0
# A live stream carries a heartbeat at least every 300 s (HOIST_LIVE_HEARTBEAT_SECONDS' bound):
# silence for twice that is a connection that is gone.
STREAM_SILENCE_SECONDS = 600.0
MAX_PAGE = 100  # the API's largest page
USER_ERRORS = "errors { code message field }"
BOOL = "true|false"  # every boolean flag takes one, default false


# A live stream the server ended this way missed nothing the caller cannot read again: it
# lost its Redis feed, or the reader fell behind. A caller that waits subscribes again.
INTERRUPTIONS = frozenset({"LIVE_FEED_LOST", "SUBSCRIBER_TOO_SLOW"})


class StreamInterrupted(Exception):
    """The server ended a live stream for one of INTERRUPTIONS, or the connection dropped
    mid-stream; the message says which."""


class Output(StrEnum):
    text = "text"
    json = "json"
    id = "id"


# Help texts avoid square brackets: typer's rich help would read them as markup.
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="Server to talk to (default: HOIST_URL, else http://127.0.0.1:8000)."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", help="API token (default: HOIST_TOKEN; prefer it, options show in ps)."
    ),
]
OutputOption = Annotated[
    Output,
    typer.Option("--output", "-o", help="text for people, json for scripts, id: only the id(s)."),
]


def fail(message: str, status: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(status)


class Api:
    """One server and token; `call` answers a query's `data` or exits with the errors."""

    def __init__(self, url: str | None, token: str | None) -> None:
        try:
            settings = get_settings()
        except pydantic.ValidationError as exc:
            fail(f"bad HOIST_ setting: {' '.join(str(exc).split())}", EXIT_USAGE)
        self.url = (url or settings.url).rstrip("/")
        self.token = token or settings.token

    def call(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        endpoint = f"{self.url}/graphql"
        try:
            response = httpx.post(
                endpoint,
                json={"query": query, "variables": variables or {}},
                headers=headers,
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.TimeoutException:
            fail(
                f"the Hoist server at {self.url} did not answer within "
                f"{TIMEOUT_SECONDS:.0f} seconds",
                EXIT_UNREACHABLE,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # ConnectError's text is the OS's ("[Errno 111] Connection refused").
            fail(f"cannot reach the Hoist server at {self.url}: {exc}", EXIT_UNREACHABLE)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            fail(
                f"{endpoint} did not answer with GraphQL (HTTP {response.status_code}); "
                "is that a Hoist server?",
                EXIT_UNREACHABLE,
            )
        if body.get("errors"):
            self._top_level_errors(body["errors"])
        data = body.get("data")
        if not isinstance(data, dict):
            fail(
                f"{endpoint} answered without data (HTTP {response.status_code})", EXIT_UNREACHABLE
            )
        return data

    @contextmanager
    def stream(
        self, query: str, variables: dict[str, Any], deadline: float | None = None
    ) -> Iterator[Iterator[dict[str, Any] | None]]:
        """A GraphQL subscription over SSE, open (the server has it) on entering: its
        events' `data`, and None at each heartbeat (so a caller can look at the clock);
        they end when the server completes the stream; errors exit as `call` does, but
        an interruption (INTERRUPTIONS, or the connection dropping once open) raises
        StreamInterrupted for a caller that can subscribe again. With a `deadline`
        (time.monotonic()), no read waits past it: a read still waiting then leaves the
        block quietly, and the caller looks at the clock."""
        headers = {"Accept": "text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        endpoint = f"{self.url}/graphql"
        silence = STREAM_SILENCE_SECONDS
        opened = False
        if deadline is not None:
            silence = max(0.1, min(silence, deadline - time.monotonic()))
        try:
            with httpx.stream(
                "POST",
                endpoint,
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=httpx.Timeout(TIMEOUT_SECONDS, read=silence),
            ) as response:
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    response.read()
                    fail(
                        f"{endpoint} did not answer with an event stream "
                        f"(HTTP {response.status_code}); is that a Hoist server?",
                        EXIT_UNREACHABLE,
                    )
                opened = True
                yield self._events(response)
        except httpx.ReadTimeout:
            if deadline is not None and time.monotonic() >= deadline - 0.1:
                return
            fail(
                f"the Hoist server at {self.url} went silent for {silence:.0f} s", EXIT_UNREACHABLE
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            if opened and isinstance(exc, httpx.TransportError):
                raise StreamInterrupted(f"the connection to {self.url} dropped ({exc})") from exc
            fail(f"cannot reach the Hoist server at {self.url}: {exc}", EXIT_UNREACHABLE)

    def _events(self, response: httpx.Response) -> Iterator[dict[str, Any] | None]:
        name = data = ""
        for line in response.iter_lines():
            if line.startswith(":"):
                yield None  # a heartbeat
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif not line and name:
                if name == "complete":
                    return
                body = json.loads(data) if data else {}
                if errors := body.get("errors"):
                    codes = {(e.get("extensions") or {}).get("code") for e in errors}
                    if codes and codes <= INTERRUPTIONS:
                        raise StreamInterrupted("; ".join(str(e.get("message")) for e in errors))
                    self._top_level_errors(errors)
                if isinstance(body.get("data"), dict):
                    yield body["data"]
                name = data = ""

    def mutate(
        self,
        query: str,
        variables: dict[str, Any],
        name: str,
        lines: Callable[[str | None], int | None] | None = None,
    ) -> dict[str, Any]:
        """A mutation's payload; its UserErrors printed and exit 1 when there are any (the
        authentication exit code when the caller lacks the right)."""
        payload: dict[str, Any] = self.call(query, variables)[name]
        if payload.get("errors"):
            print_user_errors(payload["errors"], lines)
            raise typer.Exit(refused_status(payload["errors"]))
        return payload

    def pages(self, query: str, variables: dict[str, Any], path: list[str]) -> list[dict[str, Any]]:
        """Every node of a connection, page after page (`query` takes $first and $after)."""
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            data: Any = self.call(query, {**variables, "first": MAX_PAGE, "after": after})
            for key in path:
                data = data[key]
            nodes += [edge["node"] for edge in data["edges"]]
            if not data["pageInfo"]["hasNextPage"]:
                return nodes
            after = data["pageInfo"]["endCursor"]

    def _top_level_errors(self, errors: list[dict[str, Any]]) -> NoReturn:
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        for error in errors:
            code = (error.get("extensions") or {}).get("code")
            typer.echo(f"error: {error.get('message')}" + (f" ({code})" if code else ""), err=True)
        if "UNAUTHENTICATED" in codes:
            hint = (
                "the server did not accept the token; check HOIST_TOKEN or --token"
                if self.token
                else "no token given; set HOIST_TOKEN or pass --token "
                "(`hoist admin bootstrap` prints the first one)"
            )
            typer.echo(f"hint: {hint}", err=True)
        raise typer.Exit(EXIT_AUTH if codes & {"UNAUTHENTICATED", "FORBIDDEN"} else EXIT_REFUSED)


def refused_status(errors: list[dict[str, Any]]) -> int:
    """The exit code of a refused mutation: the caller's missing right exits like a
    missing token (EXIT_AUTH), whether the server said so at the top or in the payload."""
    return EXIT_AUTH if any(e.get("code") == "FORBIDDEN" for e in errors) else EXIT_REFUSED


def print_user_errors(
    errors: list[dict[str, Any]], lines: Callable[[str | None], int | None] | None = None
) -> None:
    """One line per UserError; `lines` maps a field to a manifest line, when there is one."""
    for error in errors:
        where = f", field {error['field']}" if error.get("field") else ""
        line = lines(error.get("field")) if lines else None
        at = f", line {line}" if line else ""
        typer.echo(f"error: {error['message']} [{error['code']}{where}{at}]", err=True)


def parse_bool(flag: str, value: str | None) -> bool | None:
    """`true`/`false` (any case); the CLI asks for explicit values, nothing is guessed."""
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    fail(f"{flag} must be true or false (got {value!r})", EXIT_USAGE)


def parse_int(flag: str, value: str | None) -> int | None:
    """A whole number; its range is the server's rule, so the server checks it."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        fail(f"{flag} must be a whole number (got {value!r})", EXIT_USAGE)


def parse_list(values: list[str] | None) -> list[str]:
    """A repeatable flag whose values may also be comma-separated: `--x a,b --x c`."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def read_file(path: Path, what: str = "manifest file") -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{what} {str(path)!r} does not exist", EXIT_USAGE)
    except UnicodeDecodeError:
        fail(f"{what} {str(path)!r} is not UTF-8 text", EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}", EXIT_USAGE)


def one_line(text: str | None, width: int = 40) -> str:
    if not text:
        return "-"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def emit(output: Output, data: Any, text: Callable[[], str]) -> None:
    """Print `data` as JSON, its id(s), or the text `text()` makes, per `-o`."""
    if output is Output.json:
        typer.echo(json.dumps(data, indent=2))
    elif output is Output.id:
        items = data if isinstance(data, list) else [data]
        if any(not isinstance(item, dict) or "id" not in item for item in items):
            fail("this command prints nothing with an id; use -o text or -o json", EXIT_USAGE)
        for item in items:
            typer.echo(item["id"])
    else:
        shown = text()
        if shown:
            typer.echo(shown)


def rows_or_none(header: list[str], rows: list[list[str]], nothing: str) -> str:
    """A table, or one line saying there is nothing to show (an empty table reads as a bug)."""
    return table([header, *rows]) if rows else nothing


def show(value: Any) -> str:
    """A cell: `-` for null, true/false for booleans (as the flags take them)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
