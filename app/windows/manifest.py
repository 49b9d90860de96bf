"""The YAML manifest `kind: promotionWindow`: an optional window definition and the pairs
it applies to, read with a line number for every error (the YAML reading is shared,
app/manifests.py). `read` imports nothing of the ORM, so the CLI checks a file first.

    apiVersion: v1
    kind: promotionWindow
    spec:
      window:                      # optional: created, or updated when it exists
        name: weekend-freeze
        kind: DENY
        timeZone: Europe/Paris
        rrule: FREQ=WEEKLY;BYDAY=FR;BYHOUR=16
        duration: 64h
        dateRanges:
          - {start: 2026-12-24, end: 2027-01-02}
      payload:
        applyToWindowName: weekend-freeze
        applicationEnvironments:
          - {appName: shop, envName: prod}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yaml.nodes import Node, ScalarNode

from app import durations
from app.manifests import (
    check_kind,
    child,
    compose,
    error,
    only_keys,
    optional_child,
    sequence,
    string,
)

KIND = "promotionWindow"
_WINDOW_KEYS = (
    "name",
    "description",
    "kind",
    "timeZone",
    "rrule",
    "duration",
    "startsAt",
    "dateRanges",
)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class WindowSpec:
    """A window as the manifest defines it (names as the API's)."""

    name: str
    kind: str
    time_zone: str
    description: str | None = None
    rrule: str | None = None
    duration_seconds: int | None = None
    starts_at: str | None = None
    date_ranges: tuple[tuple[str, str], ...] = ()
    # The line of each field, so the server's errors can name it.
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowManifest:
    window: WindowSpec | None
    window_name: str
    pairs: list[tuple[str, str]]


def _text(node: Node, at: str) -> str:
    """A string, or a YAML date/timestamp written unquoted (2026-12-24) as its text."""
    if isinstance(node, ScalarNode) and node.tag == _TIMESTAMP:
        return str(node.value)
    return string(node, at)


def _optional(node: Node, key: str, path: str) -> str | None:
    found = optional_child(node, key, path)
    return None if found is None else _text(found, f"{path}.{key}")


def _window(node: Node, path: str) -> WindowSpec:
    only_keys(node, _WINDOW_KEYS, path)
    lines = {}
    for key, value in getattr(node, "value", []):
        lines[f"{path}.{key.value}"] = value.start_mark.line + 1
    duration_text = _optional(node, "duration", path)
    duration = None
    if duration_text is not None:
        duration = durations.parse(duration_text)
        if duration is None:
            raise error(
                f"{path}.duration must be a duration such as 64h or 1h30m",
                f"{path}.duration",
                child(node, "duration", path),
            )
    ranges = []
    ranges_node = optional_child(node, "dateRanges", path)
    if ranges_node is not None:
        for i, item in enumerate(sequence(ranges_node, f"{path}.dateRanges")):
            at = f"{path}.dateRanges[{i}]"
            only_keys(item, ("start", "end"), at)
            ranges.append(
                (
                    _text(child(item, "start", at), f"{at}.start"),
                    _text(child(item, "end", at), f"{at}.end"),
                )
            )
    kind_node = child(node, "kind", path)
    kind = string(kind_node, f"{path}.kind")
    if kind not in ("DENY", "ALLOW"):
        raise error(f"{path}.kind must be DENY or ALLOW", f"{path}.kind", kind_node)
    return WindowSpec(
        name=string(child(node, "name", path), f"{path}.name"),
        kind=kind,
        time_zone=string(child(node, "timeZone", path), f"{path}.timeZone"),
        description=_optional(node, "description", path),
        rrule=_optional(node, "rrule", path),
        duration_seconds=duration,
        starts_at=_optional(node, "startsAt", path),
        date_ranges=tuple(ranges),
        lines=lines,
    )


def read(text: str) -> WindowManifest:
    """The window (if defined), its name and the pairs, or an INVALID_MANIFEST error."""
    root = compose(text)
    check_kind(root, KIND)
    spec = child(root, "spec", "")
    only_keys(spec, ("window", "payload"), "spec")
    window_node = optional_child(spec, "window", "spec")
    window = _window(window_node, "spec.window") if window_node is not None else None
    payload = child(spec, "payload", "spec")
    only_keys(payload, ("applyToWindowName", "applicationEnvironments"), "spec.payload")
    name_node = child(payload, "applyToWindowName", "spec.payload")
    name = string(name_node, "spec.payload.applyToWindowName")
    if window is not None and window.name != name:
        raise error(
            "spec.payload.applyToWindowName must name the window spec.window defines "
            f"({window.name!r})",
            "spec.payload.applyToWindowName",
            name_node,
        )
    field_name = "spec.payload.applicationEnvironments"
    pairs = []
    for i, item in enumerate(
        sequence(child(payload, "applicationEnvironments", "spec.payload"), field_name)
    ):
        at = f"{field_name}[{i}]"
        pairs.append(
            (
                string(child(item, "appName", at), f"{at}.appName"),
                string(child(item, "envName", at), f"{at}.envName"),
            )
        )
    return WindowManifest(window=window, window_name=name, pairs=pairs)
