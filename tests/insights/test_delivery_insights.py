"""deliveryInsights against hand-computed figures (tests/insights/delivery_world.py), on
SQLite and on Postgres; its bounds, validation and who may ask."""

from __future__ import annotations

from typing import Any

import pytest

from app.accounts.models import Role
from app.catalog.models import Application
from tests.conftest import People
from tests.insights import delivery_world as world
from tests.support.graphql import GraphQLClient

FIGURES = """
    leadTime { samples p50Seconds p90Seconds }
    approvalWait { samples p50Seconds p90Seconds }
    promotions { status count }
    promotionCount skippedStages skipShare deployments rolledBack rollbackShare
"""
INSIGHTS = f"""
query($app: String!, $env: String, $from: DateTime!, $to: DateTime!) {{
  deliveryInsights(application: $app, environment: $env, from: $from, to: $to) {{
    application environment from to
    weeks {{ weekStart figures {{ {FIGURES} }} }}
    total {{ {FIGURES} }}
  }}
}}"""
RANGE = {"from": world.START.isoformat(), "to": world.END.isoformat()}


def _plain(figures: dict[str, Any]) -> dict[str, Any]:
    return {**figures, "promotions": {p["status"]: p["count"] for p in figures["promotions"]}}


async def _insights(
    gql: GraphQLClient, token: str, env: str | None, **range_: str
) -> dict[str, Any]:
    data = await gql(INSIGHTS, {"app": "shop", "env": env, **RANGE, **range_}, token)
    return data["deliveryInsights"]


@pytest.fixture
async def delivered(db: str) -> None:
    await world.build()


@pytest.mark.parametrize(("env", "expected"), [("prod", world.PROD), (None, world.ALL)])
async def test_figures_match_the_hand_computed_ones(
    gql: GraphQLClient,
    admin: str,
    delivered: None,
    env: str | None,
    expected: dict[str, Any],
) -> None:
    insights = await _insights(gql, admin, env)
    assert insights["environment"] == env
    assert [w["weekStart"] for w in insights["weeks"]] == world.WEEKS
    for week, (got, want) in enumerate(zip(insights["weeks"], expected["weeks"], strict=True)):
        assert _plain(got["figures"]) == want, f"week {week}"
    assert _plain(insights["total"]) == expected["total"]


async def test_weeks_cover_the_range_and_only_it_counts(
    gql: GraphQLClient, admin: str, delivered: None
) -> None:
    """A range from a Wednesday: its week starts on the Monday before, and only what
    happened from the Wednesday on counts (W0's requests of Nov 2-3 and D1-D2 drop out)."""
    insights = await _insights(gql, admin, "prod", **{"from": "2026-11-04T00:00:00Z"})
    assert [w["weekStart"] for w in insights["weeks"]] == world.WEEKS
    first = _plain(insights["weeks"][0]["figures"])
    assert first["promotions"]["PROMOTED"] == 1
    assert first["deployments"] == 3  # D3, D4, D5
    assert first["leadTime"] == {"samples": 1, "p50Seconds": 4 * 3600, "p90Seconds": 4 * 3600}
    # A zone other than UTC is the same instant.
    shifted = await _insights(
        gql,
        admin,
        "prod",
        **{"from": "2026-11-02T01:00:00+01:00", "to": "2026-11-23T01:00:00+01:00"},
    )
    assert shifted["total"] == (await _insights(gql, admin, "prod"))["total"]


async def test_an_empty_range_has_empty_weeks(
    gql: GraphQLClient, admin: str, delivered: None
) -> None:
    insights = await _insights(
        gql, admin, None, **{"from": "2025-01-01T00:00:00Z", "to": "2025-12-31T00:00:00Z"}
    )
    assert len(insights["weeks"]) == 53  # Mon 2024-12-30 to the week of Tue 2025-12-30
    assert insights["total"]["promotionCount"] == 0
    assert insights["total"]["leadTime"] == {"samples": 0, "p50Seconds": None, "p90Seconds": None}
    assert insights["total"]["skipShare"] is None
    assert insights["total"]["rollbackShare"] is None


@pytest.mark.parametrize(
    ("range_", "message"),
    [
        ({"to": "2026-11-02T00:00:00Z"}, "to must be after from"),
        ({"to": "2026-10-01T00:00:00Z"}, "to must be after from"),
        ({"to": "2027-11-04T00:00:00Z"}, "at most 366 days"),
        # Later than any UTC date-time can be (found by tests/fuzz): refused, not a crash.
        ({"to": "9999-12-31T23:59:59-14:00"}, "to is out of range"),
        ({"from": "9999-12-31T23:59:59-14:00"}, "from is out of range"),
    ],
)
async def test_the_range_is_bounded(
    gql: GraphQLClient, admin: str, range_: dict[str, str], message: str
) -> None:
    body = await gql.raw(INSIGHTS, {"app": "shop", "env": None, **RANGE, **range_}, admin)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == ("from" if message.startswith("from") else "to")
    assert message in error["message"]
    assert body["data"] is None


async def test_a_year_is_allowed(gql: GraphQLClient, admin: str, delivered: None) -> None:
    insights = await _insights(
        gql, admin, None, **{"from": "2026-01-04T00:00:00Z", "to": "2027-01-05T00:00:00Z"}
    )
    assert len(insights["weeks"]) == 54  # a Sunday, 52 full weeks, a Monday
    assert insights["total"]["promotionCount"] == 16  # the rows just outside too


async def test_unknown_names_are_not_found(gql: GraphQLClient, admin: str, delivered: None) -> None:
    body = await gql.raw(INSIGHTS, {"app": "shop", "env": "nowhere", **RANGE}, admin)
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("NOT_FOUND", "environment")
    ]
    body = await gql.raw(INSIGHTS, {"app": "x" * 51, "env": None, **RANGE}, admin)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_whoever_may_see_the_application_may_ask(
    gql: GraphQLClient, people: People, delivered: None
) -> None:
    viewer = await people.token("viewer@example.com", (Role.VIEWER, "shop", "*"))
    approver = await people.token("pa@example.com", (Role.ARTIFACT_PROMOTER, "shop", "prod"))
    await Application.create(name="blog")
    stranger = await people.token("other@example.com", (Role.VIEWER, "blog", "*"))
    for token in (viewer, approver):
        insights = await _insights(gql, token, "prod")
        assert insights["total"]["promotionCount"] == 12
    # Without a role on it: FORBIDDEN whether or not it exists (no name is revealed).
    for app in ("shop", "nothing-here"):
        code = await gql.error_code(INSIGHTS, {"app": app, "env": None, **RANGE}, stranger)
        assert code == "FORBIDDEN"
    assert await gql.error_code(INSIGHTS, {"app": "shop", "env": None, **RANGE}) == (
        "UNAUTHENTICATED"
    )
