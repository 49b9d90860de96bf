"""The GraphiQL page (issue 11 item 10, issue 12 item 11): the dashboard's strict headers,
no inline code, its own favicon, and it still works in a real browser under that policy."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from app.ui.routes import SECURITY_HEADERS
from tests.support.graphql import GraphQLClient
from tests.support.live_server import LiveServer, live_server
from tests.ui.conftest import VIEWPORT, browser

__all__ = ["browser", "live_server"]


async def test_the_page_has_the_dashboards_strict_headers(gql: GraphQLClient) -> None:
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    # The dashboard's one definition, with fonts from data: URIs (GraphiQL's stylesheet).
    assert policy == SECURITY_HEADERS["Content-Security-Policy"] + "; font-src 'self' data:"
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    # Nothing inline for the policy to block: every script is a file, no <style>.
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all('src="/assets/' in attributes for attributes in scripts), scripts
    assert "<style" not in page.text and " style=" not in page.text
    for asset in re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text):
        served = await gql.http.get(asset)
        assert served.headers["x-content-type-options"] == "nosniff", asset


async def test_the_page_points_at_a_favicon_it_serves(gql: GraphQLClient) -> None:
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    [icon] = re.findall(r'<link rel="icon" href="([^"]+)"', page.text)
    served = await gql.http.get(icon)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert served.content.startswith(b"<svg")


@pytest.fixture
def graphiql(browser: Browser, live_server: LiveServer) -> Iterator[tuple[Page, list[str]]]:
    """GraphiQL open in Chromium; the list collects console errors (CSP violations are
    reported there), uncaught page errors and every HTTP error answer the page received."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text[:300]) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    def answered(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("response", answered)
    page.goto(f"{live_server.url}/graphql")
    yield page, problems
    context.close()


def test_graphiql_runs_a_query_under_the_policy(
    graphiql: tuple[Page, list[str]], live_server: LiveServer
) -> None:
    page, problems = graphiql
    editors = page.locator(".CodeMirror")
    expect(editors.first).to_be_visible()
    # Type as a person would paste: the query, and the token in the Headers tab.
    page.evaluate(
        """([query, headers]) => {
        document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query);
        const tools = document.querySelectorAll('.graphiql-editor-tool .CodeMirror');
        tools[tools.length - 1].CodeMirror.setValue(headers);
    }""",
        ["query Who { me { email } }", f'{{"Authorization": "Bearer {live_server.token}"}}'],
    )
    page.get_by_role("button", name=re.compile("Execute query")).click()
    expect(page.locator(".graphiql-response")).to_contain_text("admin@example.com")
    assert problems == [], problems
