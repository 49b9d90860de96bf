"""`hoist watch`: live changes as they happen, over the API's GraphQL-over-SSE subscriptions.

`hoist watch requests` prints each promotion request's change as the server tells it;
`hoist watch request ID --until PROMOTED` waits for one request without polling, for
scripts that wait for an approval (`hoist wait request` polls instead).
"""

from __future__ import annotations

import json
import re
import time
from typing import Annotated, Any

import typer

from app.cli.api import (
    EXIT_REFUSED,
    EXIT_USAGE,
    Api,
    Output,
    OutputOption,
    StreamInterrupted,
    TokenOption,
    UrlOption,
    fail,
)
from app.cli.promote import STATUSES
from app.cli.verbs import watch

# The states a request does not leave.
FINAL = ("PROMOTED", "CANCELLED", "REJECTED", "STALE", "EXPIRED")
FIELDS = "id status application { name } targetEnvironment { name } staleReason"
CHANGES = f"""subscription Watch($application: String, $environment: String) {{
  promotionRequestChanged(application: $application, targetEnvironment: $environment) {{
    eventId action request {{ {FIELDS} }} }} }}"""
# `30m`, `1h30m`, `2d`, or a number of seconds; the most `watch request` waits.
_DURATION = re.compile(r"(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?")
_UNITS = (86_400, 3_600, 60, 1)
MAX_WAIT_SECONDS = 7 * 86_400
# After an interrupted stream (the server lost Redis, restarted...), the pause before
# subscribing again: the server refuses subscriptions until its feed is back.
RESUBSCRIBE_SECONDS = 2.0


def _seconds(flag: str, text: str) -> int:
    """A duration flag in seconds (usage error, exit 2, when it is not one in range)."""
    text = text.strip()
    seconds = 0
    if text.isdigit() and len(text) <= 7:
        seconds = int(text)
    elif text and (match := _DURATION.fullmatch(text)):
        parts = zip(match.groups(), _UNITS, strict=True)
        seconds = sum(int(part) * unit for part, unit in parts if part)
    if not 1 <= seconds <= MAX_WAIT_SECONDS:
        fail(
            f"{flag} must be a duration from 1s to 7d, such as 30m, 1h30m or 90 (seconds); "
            f"got {text!r}",
            EXIT_USAGE,
        )
    return seconds


def _line(change: dict[str, Any]) -> str:
    request = change["request"]
    where = f"{request['application']['name']} -> {request['targetEnvironment']['name']}"
    return f"{change['action']:<22} request {request['id']}  {where}  {request['status']}"


@watch.command("requests")
def watch_requests(
    application: Annotated[
        str | None, typer.Option("--application", help="Only this application's requests.")
    ] = None,
    environment: Annotated[
        str | None, typer.Option("--environment", help="Only requests to this environment.")
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Print every change of the promotion requests you can see as it happens (a state
    change, an approval or rejection), one line each (-o json: one JSON object a line),
    until interrupted."""
    if output is Output.id:
        fail("watch prints changes, not ids; use -o text or -o json", EXIT_USAGE)
    api = Api(url, token)
    variables = {"application": application, "environment": environment}
    try:
        while True:
            try:
                with api.stream(CHANGES, variables) as events:
                    for data in events:
                        if data is None:
                            continue
                        change = data["promotionRequestChanged"]
                        typer.echo(json.dumps(change) if output is Output.json else _line(change))
            except StreamInterrupted as exc:
                typer.echo(
                    f"warning: {exc}; changes until the next one may be missing; subscribing again",
                    err=True,
                )
                time.sleep(RESUBSCRIBE_SECONDS)
                continue
            fail("the server ended the stream", EXIT_REFUSED)
    except KeyboardInterrupt:
        return


@watch.command("request")
def watch_request(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID")],
    until: Annotated[
        str, typer.Option("--until", help="The state to wait for (default PROMOTED).")
    ] = "PROMOTED",
    timeout: Annotated[
        str,
        typer.Option(
            "--timeout", metavar="DURATION", help="Give up after this long: 30m, 1h, 90s."
        ),
    ] = "30m",
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Wait until a request reaches a state, told by the server as it happens (no polling).

    Exits 0 when it is in that state, 1 when it reached another final state (it will
    never get there) or the timeout passed first.
    """
    wanted = until.upper()
    if wanted not in STATUSES:
        fail(f"--until must be one of {', '.join(STATUSES)} (got {until!r})", EXIT_USAGE)
    seconds = _seconds("--timeout", timeout)
    api = Api(url, token)
    deadline = time.monotonic() + seconds
    request: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        try:
            request = _wait(api, request_id, wanted, deadline, output)
        except StreamInterrupted as exc:
            # What happened meanwhile is read again on subscribing: nothing is missed.
            typer.echo(f"warning: {exc}; subscribing again", err=True)
            time.sleep(min(RESUBSCRIBE_SECONDS, max(0.0, deadline - time.monotonic())))
            continue
        if request is None:
            return
    status = request["status"] if request else "unchanged"
    fail(f"request {request_id} is still {status} after {timeout}", EXIT_REFUSED)


def _wait(
    api: Api, request_id: str, wanted: str, deadline: float, output: Output
) -> dict[str, Any] | None:
    """Subscribe, read the request, and follow it until it is `wanted` (None, printed),
    or the deadline (the request as last seen); exits 1 when it closed otherwise."""
    # Subscribed before the request is read: a change between the two is not missed.
    with api.stream(CHANGES, {}, deadline) as events:
        request = api.call(
            f"query Request($id: ID!) {{ promotionRequest(id: $id) {{ {FIELDS} }} }}",
            {"id": request_id},
        )["promotionRequest"]
        if request is None:
            fail(f"request {request_id} not found", EXIT_REFUSED)
        if _settled(request, wanted, output):
            return None
        for data in events:
            changed = data["promotionRequestChanged"]["request"] if data else None
            if changed is not None and changed["id"] == request["id"]:
                request = changed
                if _settled(request, wanted, output):
                    return None
            if time.monotonic() >= deadline:
                break
    if time.monotonic() < deadline:
        raise StreamInterrupted("the server ended the stream")
    return dict(request)


def _settled(request: dict[str, Any], wanted: str, output: Output) -> bool:
    """True (printed) when the request is in `wanted`; exits 1 in another final state."""
    if request["status"] == wanted:
        if output is Output.json:
            typer.echo(json.dumps(request))
        elif output is Output.id:
            typer.echo(request["id"])
        else:
            typer.echo(f"request {request['id']}: {request['status']}")
        return True
    if request["status"] in FINAL:
        reason = f": {request['staleReason']}" if request.get("staleReason") else ""
        fail(
            f"request {request['id']} is {request['status']}, it will not become {wanted}{reason}",
            EXIT_REFUSED,
        )
    return False
