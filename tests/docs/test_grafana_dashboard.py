"""docs/grafana-dashboard.json asks only for metrics Hoist exposes, so it cannot rot."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.graphql import GraphQLClient

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
METRIC = re.compile(r"\bhoist_[a-z0-9_]+\b")
# The series of each kind of family, as PromQL names them.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def exprs() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    found = [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]
    assert found and all(panel["targets"] for panel in dashboard["panels"])
    return found


async def exposed(gql: GraphQLClient) -> set[str]:
    """Every series name a scrape of /metrics can hold (a labelled family with nothing
    counted yet still says its name and type)."""
    response = await gql.http.get("/metrics")
    assert response.status_code == 200
    return {
        family.name + suffix
        for family in text_string_to_metric_families(response.text)
        for suffix in SUFFIXES.get(family.type, ("",))
    }


async def test_every_panel_queries_only_exposed_metrics(gql: GraphQLClient) -> None:
    names = await exposed(gql)
    assert "hoist_promotion_requests" in names  # the database's gauges are in the scrape
    for title, expr in exprs():
        used = set(METRIC.findall(expr))
        assert used, f"panel {title!r} queries no Hoist metric: {expr}"
        assert used <= names, f"panel {title!r} queries unknown {sorted(used - names)}"


def test_the_dashboard_covers_what_operators_ask() -> None:
    used = {name for _, expr in exprs() for name in METRIC.findall(expr)}
    for name in (
        "hoist_promotions_total",
        "hoist_approval_wait_seconds_bucket",
        "hoist_promotion_requests",
        "hoist_emails_total",
        "hoist_outbox_backlog_jobs",
        "hoist_outbox_oldest_pending_age_seconds",
        "hoist_worker_job_duration_seconds_bucket",
        "hoist_graphql_operation_duration_seconds_bucket",
    ):
        assert name in used, name
