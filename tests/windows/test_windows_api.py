"""Promotion windows through GraphQL: create, read, update, delete, apply all or nothing,
the manifest, and refusals that name the field (issue 16 item 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.windows.models import PromotionWindow, WindowBinding
from tests.notifications.helpers import Clock
from tests.promotions.world import World
from tests.windows.conftest import APPLY_WINDOW, CREATE_WINDOW

WEEKEND = {
    "name": "weekend-freeze",
    "kind": "DENY",
    "timeZone": "Europe/Paris",
    "rrule": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16",
    "duration": "64h",
}
WINDOWS = """{ promotionWindows { name kind timeZone rrule duration startsAt
  dateRanges { start end } state { open } bindings { appName envName windowName } } }"""
UPDATE = """mutation($name: String!, $input: PromotionWindowPatch!) {
  updatePromotionWindow(name: $name, input: $input) {
    window { name rrule duration dateRanges { start end } } errors { code field message } } }"""
MANIFEST = """mutation($m: String!) { applyWindowManifest(manifest: $m) {
  bindings { appName envName windowName } errors { code field message } } }"""


async def _create(world: World, token: str | None = None, **values: Any) -> dict[str, Any]:
    data = await world.gql(CREATE_WINDOW, {"input": values}, token=token or world.admin)
    return dict(data["createPromotionWindow"])


def _errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_a_window_is_created_read_updated_and_deleted(world: World, clock: Clock) -> None:
    created = await _create(world, **WEEKEND)
    assert created["errors"] == []
    window = created["window"]
    assert (window["kind"], window["duration"], window["startsAt"]) == ("DENY", "2d16h", None)

    applied = await world.gql(
        APPLY_WINDOW,
        {"window": "weekend-freeze", "pairs": [{"appName": "shop", "envName": "prod"}] * 2},
        token=world.admin,
    )
    assert applied["applyPromotionWindow"]["bindings"] == [
        {"appName": "shop", "envName": "prod", "windowName": "weekend-freeze"}
    ]
    [listed] = (await world.gql(WINDOWS, token=world.admin))["promotionWindows"]
    assert listed["bindings"] == [
        {"appName": "shop", "envName": "prod", "windowName": "weekend-freeze"}
    ]

    updated = await world.gql(
        UPDATE,
        {
            "name": "weekend-freeze",
            "input": {
                "name": "holidays",
                "rrule": "",
                "duration": "",
                "dateRanges": [{"start": "2026-12-24", "end": "2027-01-02"}],
            },
        },
        token=world.admin,
    )
    assert updated["updatePromotionWindow"] == {
        "window": {
            "name": "holidays",
            "rrule": None,
            "duration": None,
            "dateRanges": [{"start": "2026-12-24", "end": "2027-01-02"}],
        },
        "errors": [],
    }
    removed = await world.gql(
        APPLY_WINDOW,
        {"window": "holidays", "pairs": [{"appName": "shop", "envName": "prod"}], "remove": True},
        token=world.admin,
    )
    assert removed["applyPromotionWindow"] == {"bindings": [], "errors": []}
    assert await WindowBinding.all().count() == 0
    deleted = await world.gql(
        'mutation { deletePromotionWindow(name: "holidays") { deleted errors { code } } }',
        token=world.admin,
    )
    assert deleted["deletePromotionWindow"]["deleted"] is True
    assert await PromotionWindow.all().count() == 0


async def test_only_super_admins_manage_windows(world: World, clock: Clock) -> None:
    payload = await _create(world, world.tokens["dev"], **WEEKEND)
    assert _errors(payload) == [("FORBIDDEN", None)]
    body = await world.gql.raw(WINDOWS, token=world.tokens["dev"])
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_bad_rules_zones_and_ranges_are_refused_naming_the_field(
    world: World, clock: Clock
) -> None:
    cases = [
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "not a valid RRULE"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule", "FREQ must be"),
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule", "no occurrence"),
        # Searched to the year 9999 from today, seconds of CPU: the search is bounded.
        ({"rrule": "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=1,2,3"}, "rrule", "no occurrence"),
        ({"timeZone": "Mars/Olympus"}, "timeZone", "is not an IANA time zone"),
        ({"duration": "forever"}, "duration", "must be a duration"),
        ({"duration": "40d"}, "duration", "between 1m and 31d"),
        ({"rrule": None}, "rrule", "go together"),
        ({"startsAt": "2026-01-01T00:00+01:00"}, "startsAt", "without a zone"),
        (
            {"rrule": None, "duration": None, "dateRanges": [{"start": "2026-12-24", "end": "x"}]},
            "dateRanges[0].end",
            "local date",
        ),
        (
            {
                "rrule": None,
                "duration": None,
                "dateRanges": [{"start": "2026-12-24", "end": "2026-12-23"}],
            },
            "dateRanges[0].end",
            "end after it starts",
        ),
        ({"rrule": None, "duration": None}, "rrule", "give an rrule and a duration"),
    ]
    for change, field, says in cases:
        values = {k: v for k, v in {**WEEKEND, **change}.items() if v is not None}
        payload = await _create(world, **values)
        assert [e["field"] for e in payload["errors"]] == [field], (change, payload)
        assert says in payload["errors"][0]["message"], (change, payload)
    assert await PromotionWindow.all().count() == 0
    # Every bad field at once.
    payload = await _create(world, **{**WEEKEND, "name": "X", "timeZone": "Nowhere/Else"})
    assert sorted(_errors(payload)) == [("VALIDATION", "name"), ("VALIDATION", "timeZone")]


async def test_a_name_is_taken_once(world: World, clock: Clock) -> None:
    assert (await _create(world, **WEEKEND))["errors"] == []
    assert _errors(await _create(world, **WEEKEND)) == [("CONFLICT", "name")]


async def test_applying_is_all_or_nothing(world: World, clock: Clock) -> None:
    assert (await _create(world, **WEEKEND))["errors"] == []
    data = await world.gql(
        APPLY_WINDOW,
        {
            "window": "weekend-freeze",
            "pairs": [
                {"appName": "shop", "envName": "prod"},
                {"appName": "shop", "envName": "qa"},
                {"appName": "nope", "envName": "prod"},
            ],
        },
        token=world.admin,
    )
    assert _errors(data["applyPromotionWindow"]) == [
        ("NOT_FOUND", "applicationEnvironments[1].envName"),
        ("NOT_FOUND", "applicationEnvironments[2].appName"),
    ]
    assert await WindowBinding.all().count() == 0


GOOD_MANIFEST = """\
apiVersion: v1
kind: promotionWindow
spec:
  window:
    name: office-hours
    kind: ALLOW
    timeZone: America/New_York
    rrule: FREQ=WEEKLY;BYDAY=TU,WE,TH;BYHOUR=9
    duration: 6h
    dateRanges:
      - start: 2026-12-24
        end: 2027-01-02
  payload:
    applyToWindowName: office-hours
    applicationEnvironments:
      - appName: shop
        envName: prod
"""


async def test_the_manifest_defines_and_applies_a_window(world: World, clock: Clock) -> None:
    data = await world.gql(MANIFEST, {"m": GOOD_MANIFEST}, token=world.admin)
    assert data["applyWindowManifest"] == {
        "bindings": [{"appName": "shop", "envName": "prod", "windowName": "office-hours"}],
        "errors": [],
    }
    window = await PromotionWindow.get(name="office-hours")
    assert (window.kind, window.duration_seconds, window.date_ranges) == (
        "ALLOW",
        6 * 3600,
        [{"start": "2026-12-24", "end": "2027-01-02"}],
    )
    # Applied again with a change: the window is updated, the binding kept.
    again = GOOD_MANIFEST.replace("duration: 6h", "duration: 7h")
    data = await world.gql(MANIFEST, {"m": again}, token=world.admin)
    assert data["applyWindowManifest"]["errors"] == []
    assert (await PromotionWindow.get(name="office-hours")).duration_seconds == 7 * 3600
    assert await WindowBinding.all().count() == 1


async def test_manifest_errors_name_the_field_and_line_and_change_nothing(
    world: World, clock: Clock
) -> None:
    cases = [
        (
            GOOD_MANIFEST.replace("rrule: FREQ=WEEKLY", "rrule: FREQ=SOMETIMES"),
            "spec.window.rrule",
            "line 8",
        ),
        (
            GOOD_MANIFEST.replace("America/New_York", "America/Atlantis"),
            "spec.window.timeZone",
            "line 7",
        ),
        (GOOD_MANIFEST.replace("kind: ALLOW", "kind: MAYBE"), "spec.window.kind", "line 6"),
        (GOOD_MANIFEST.replace("duration: 6h", "duration: long"), "spec.window.duration", "line 9"),
        (
            GOOD_MANIFEST.replace("    duration: 6h\n", "    duration: 6h\n    colour: red\n"),
            "spec.window.colour",
            "line 10",
        ),
        (
            GOOD_MANIFEST.replace("applyToWindowName: office-hours", "applyToWindowName: other"),
            "spec.payload.applyToWindowName",
            "line 14",
        ),
        (
            GOOD_MANIFEST.replace("envName: prod", "envName: qa"),
            "spec.payload.applicationEnvironments[0].envName",
            "",
        ),
    ]
    for text, field, line in cases:
        data = await world.gql(MANIFEST, {"m": text}, token=world.admin)
        errors = data["applyWindowManifest"]["errors"]
        assert [e["field"] for e in errors] == [field], (field, errors)
        assert line in errors[0]["message"], (field, errors)
    assert await PromotionWindow.all().count() == 0
    assert await WindowBinding.all().count() == 0


async def test_the_example_manifest_applies(world: World, clock: Clock) -> None:
    text = (Path(__file__).resolve().parents[2] / "examples" / "window.yaml").read_text()
    data = await world.gql(MANIFEST, {"m": text}, token=world.admin)
    assert data["applyWindowManifest"] == {
        "bindings": [{"appName": "shop", "envName": "prod", "windowName": "weekend-freeze"}],
        "errors": [],
    }
