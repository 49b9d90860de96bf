"""`hoist watch`: the console script, subscribed over SSE to a live server, prints the
changes as they come and waits for a request's state without polling."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli.runner import failed, hoist
from tests.support.http_api import Api
from tests.support.live_client import live_status
from tests.support.live_server import HOIST, LiveServer
from tests.support.waiting import eventually

READ_SECONDS = 30.0


class Watch:
    """A running `hoist watch ...`; its stdout lines, each read with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(
            target=lambda: [self.lines.put(line) for line in stdout], daemon=True
        ).start()

    def line(self) -> str:
        return self.lines.get(timeout=READ_SECONDS).rstrip("\n")

    def exit_code(self) -> int:
        return self.process.wait(timeout=READ_SECONDS)


@contextmanager
def watching(server: LiveServer, cwd: Path, *args: str) -> Iterator[Watch]:
    """`hoist watch ARGS` as a subprocess, returned once the server holds its subscription."""
    held = live_status(server.url)["subscribers"]
    process = subprocess.Popen(
        [str(HOIST), "watch", *args],
        env=server.env(),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        eventually(
            lambda: process.poll() is not None or live_status(server.url)["subscribers"] > held,
            "hoist watch subscribed",
        )
        yield Watch(process)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=READ_SECONDS)
        for stream in (process.stdout, process.stderr):
            assert stream is not None
            stream.close()


@pytest.fixture(scope="module")
def shop(live_server: LiveServer) -> tuple[Api, Api]:
    """The catalog of tests/support/http_api.py (one approval on prod): a developer and an
    approver."""
    admin = Api(live_server.url, live_server.token)
    admin.catalog(approvals=1)
    dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
    approver = admin.user("ann@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
    return dev, approver


def _request(dev: Api, tag: str) -> str:
    [result] = dev.promote(dev.image(tag), ["prod"])
    assert result["outcome"] == "AWAITING_APPROVAL", result
    return str(result["request"]["id"])


def _decide(approver: Api, verb: str, request_id: str) -> None:
    extra = ', reason: "no"' if verb == "reject" else ""
    approver(
        f"""mutation($ids: [ID!]!) {{ {verb}PromotionRequests(requestIds: $ids{extra}) {{
        results {{ outcome }} }} }}""",
        {"ids": [request_id]},
    )


def test_watch_requests_prints_each_change_as_it_comes(
    live_server: LiveServer, shop: tuple[Api, Api], tmp_path: Path
) -> None:
    dev, approver = shop
    with watching(live_server, tmp_path, "requests", "--application", "shop", "-o", "json") as w:
        request_id = _request(dev, "4.0.0")
        first = json.loads(w.line())
        assert first["action"] == "promotion.requested"
        assert first["request"]["id"] == request_id
        assert first["request"]["status"] == "AWAITING_APPROVAL"
        _decide(approver, "approve", request_id)
        assert json.loads(w.line())["action"] == "promotion.approved"


def test_watch_request_exits_0_when_the_state_is_reached(
    live_server: LiveServer, shop: tuple[Api, Api], tmp_path: Path
) -> None:
    dev, approver = shop
    request_id = _request(dev, "4.1.0")
    with watching(live_server, tmp_path, "request", request_id, "--until", "PROMOTED") as w:
        _decide(approver, "approve", request_id)
        assert w.exit_code() == 0
        assert w.line() == f"request {request_id}: PROMOTED"


def test_watch_request_exits_1_when_the_request_closes_otherwise_or_time_runs_out(
    live_server: LiveServer, shop: tuple[Api, Api], tmp_path: Path
) -> None:
    dev, approver = shop
    request_id = _request(dev, "4.2.0")
    with watching(live_server, tmp_path, "request", request_id, "--timeout", "30m") as w:
        _decide(approver, "reject", request_id)
        assert w.exit_code() == 1
        assert w.process.stderr is not None
        assert "is REJECTED, it will not become PROMOTED" in w.process.stderr.read()

    waiting = _request(dev, "4.3.0")
    with watching(live_server, tmp_path, "request", waiting, "--timeout", "2s") as w:
        assert w.exit_code() == 1
        assert w.process.stderr is not None
        assert "is still AWAITING_APPROVAL after 2s" in w.process.stderr.read()


def test_watch_request_refuses_a_bad_timeout(live_server: LiveServer, tmp_path: Path) -> None:
    message = failed(hoist(live_server, tmp_path, "watch", "request", "1", "--timeout", "soon"), 2)
    assert "--timeout must be a duration" in message
