"""`hoist create|get|delete promotionWindow`, `hoist apply window -p FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.api import (
    EXIT_REFUSED,
    EXIT_USAGE,
    USER_ERRORS,
    Api,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    fail,
    print_user_errors,
    read_file,
    rows_or_none,
    show,
)
from app.cli.verbs import create, delete, get
from app.errors import DomainError
from app.windows import manifest as window_manifest

STATE = "state { open opensAt closesAt closedBy }"
WINDOW_FIELDS = f"""
  name description kind timeZone rrule duration startsAt dateRanges {{ start end }}
  {STATE} bindings {{ appName envName }}
"""
APPLY_MANIFEST = f"""
mutation ApplyWindowManifest($manifest: String!) {{
  applyWindowManifest(manifest: $manifest) {{
    bindings {{ appName envName windowName }} {USER_ERRORS}
  }}
}}"""


def _ranges(values: list[str] | None) -> list[dict[str, str]] | None:
    """`--dateRange 2026-12-24..2027-01-02` (repeatable) as the API's ranges."""
    if not values:
        return None
    ranges = []
    for value in values:
        start, sep, end = value.partition("..")
        if not sep or not start.strip() or not end.strip():
            fail(
                f"--dateRange must be START..END, such as 2026-12-24..2027-01-02 (got {value!r})",
                EXIT_USAGE,
            )
        ranges.append({"start": start.strip(), "end": end.strip()})
    return ranges


def _state(state: dict[str, Any]) -> str:
    if state["open"]:
        closes = f", closes at {state['closesAt']}" if state["closesAt"] else ""
        return f"open{closes}"
    opens = f"opens at {state['opensAt']}" if state["opensAt"] else "no opening scheduled"
    return f"closed, {opens}"


@create.command("promotionWindow")
def create_window(
    name: Annotated[str, typer.Option("--name", help="3-50 of a-z, 0-9, '-'.")],
    kind: Annotated[
        str, typer.Option("--kind", metavar="DENY|ALLOW", help="DENY: a freeze; ALLOW: only then.")
    ],
    time_zone: Annotated[
        str, typer.Option("--timeZone", help="IANA time zone of the local times (Europe/Paris).")
    ],
    rrule: Annotated[
        str | None,
        typer.Option(
            "--rrule", help="RFC 5545 RRULE of the starts: FREQ=WEEKLY;BYDAY=FR;BYHOUR=16."
        ),
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", help="How long each occurrence lasts: 64h.")
    ] = None,
    starts_at: Annotated[
        str | None, typer.Option("--startsAt", help="The rule's DTSTART, local: 2026-01-05T00:00.")
    ] = None,
    date_ranges: Annotated[
        list[str] | None,
        typer.Option("--dateRange", help="START..END, local dates or date-times; repeat for more."),
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a promotion window (apply it to pairs with `hoist apply window -p FILE`)."""
    if kind.upper() not in ("DENY", "ALLOW"):
        fail(f"--kind must be DENY or ALLOW (got {kind!r})", EXIT_USAGE)
    values: dict[str, Any] = {
        "name": name,
        "kind": kind.upper(),
        "timeZone": time_zone,
        "rrule": rrule,
        "duration": duration,
        "startsAt": starts_at,
        "dateRanges": _ranges(date_ranges),
        "description": description,
    }
    window = Api(url, token).mutate(
        f"""mutation CreateWindow($input: PromotionWindowInput!) {{
              createPromotionWindow(input: $input) {{ window {{ {WINDOW_FIELDS} }} {USER_ERRORS} }}
            }}""",
        {"input": {k: v for k, v in values.items() if v is not None}},
        "createPromotionWindow",
    )["window"]
    emit(
        output,
        window,
        lambda: f"created {window['kind']} window {name} ({_state(window['state'])})",
    )


@get.command("windows")
def get_windows(
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List every promotion window, with its state now."""
    windows = Api(url, token).call(f"query Windows {{ promotionWindows {{ {WINDOW_FIELDS} }} }}")[
        "promotionWindows"
    ]
    emit(
        output,
        [{"id": w["name"], **w} for w in windows] if output is Output.id else windows,
        lambda: rows_or_none(
            ["NAME", "KIND", "ZONE", "RRULE", "DURATION", "RANGES", "NOW", "PAIRS"],
            [
                [
                    w["name"],
                    w["kind"],
                    w["timeZone"],
                    show(w["rrule"]),
                    show(w["duration"]),
                    str(len(w["dateRanges"])),
                    _state(w["state"]),
                    ", ".join(f"{b['appName']}/{b['envName']}" for b in w["bindings"]) or "-",
                ]
                for w in windows
            ],
            "no promotion windows",
        ),
    )


@get.command("window")
def get_window(
    name: Annotated[str, typer.Argument(help="The window's name.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show one promotion window: its rules, its state now and its pairs."""
    window = Api(url, token).call(
        f"query Window($name: String!) {{ promotionWindow(name: $name) {{ {WINDOW_FIELDS} }} }}",
        {"name": name},
    )["promotionWindow"]
    if window is None:
        fail(f"no promotion window named {name!r}", EXIT_REFUSED)

    def text() -> str:
        shown = {k: v for k, v in window.items() if k not in ("bindings", "dateRanges", "state")}
        shown["dateRanges"] = (
            ", ".join(f"{r['start']}..{r['end']}" for r in window["dateRanges"]) or None
        )
        shown["now"] = _state(window["state"])
        shown["bindings"] = (
            ", ".join(f"{b['appName']}/{b['envName']}" for b in window["bindings"]) or None
        )
        width = max(len(k) for k in shown) + 1
        return "\n".join(f"{key + ':':<{width}} {show(value)}" for key, value in shown.items())

    emit(output, window, text)


@delete.command("window")
def delete_window(
    name: Annotated[str, typer.Argument(help="The window's name.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a promotion window; requests it kept QUEUED go once their pair opens."""
    Api(url, token).mutate(
        f"""mutation DeleteWindow($name: String!) {{
              deletePromotionWindow(name: $name) {{ deleted {USER_ERRORS} }}
            }}""",
        {"name": name},
        "deletePromotionWindow",
    )
    emit(output, {"deleted": True, "name": name}, lambda: f"deleted window {name}")


def apply_manifest_text(api: Api, manifest: str, output: Output) -> None:
    """Check the manifest here (the same reader the server runs), then apply it."""
    try:
        parsed = window_manifest.read(manifest)
    except DomainError as exc:
        print_user_errors([{"message": exc.message, "code": exc.code.value, "field": exc.field}])
        raise typer.Exit(EXIT_REFUSED) from None
    applied = api.mutate(APPLY_MANIFEST, {"manifest": manifest}, "applyWindowManifest")
    pairs = ", ".join(f"{b['appName']}/{b['envName']}" for b in applied["bindings"])
    emit(output, applied["bindings"], lambda: f"applied window {parsed.window_name} to {pairs}")


def apply_window(
    path: Annotated[Path, typer.Option("--path", "-p", help="The promotionWindow manifest.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Apply a manifest: its window (created or updated) applies to the listed pairs."""
    apply_manifest_text(Api(url, token), read_file(path), output)
