"""Hostile HTTP input against the real server (`hoist serve`, uvicorn) (issue 11 items 1, 6
and 8; issue 12 item 11): no request stalls the event loop, bodies are bounded while they
stream in, and bad bytes get 400s in GraphQL's JSON shape, never a 500 with a traceback.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.settings import Settings
from tests.graphql.test_document_limits import fragment_bomb
from tests.support.live_server import LiveServer, live_server

__all__ = ["live_server"]

MAX_BODY = Settings.model_fields["max_body_bytes"].default
# Generous bounds that the code before the fix exceeds by orders of magnitude: 28 levels
# of fragments took the depth limiter alone about ten minutes, the whole server frozen.
ANSWER_WITHIN_SECONDS = 10.0


def test_a_fragment_bomb_is_refused_while_healthz_answers(live_server: LiveServer) -> None:
    answers: dict[str, Any] = {}

    def send_bomb() -> None:
        try:
            answers["bomb"] = httpx.post(
                f"{live_server.url}/graphql",
                json={"query": fragment_bomb(28)},
                timeout=ANSWER_WITHIN_SECONDS,
            )
        except httpx.TimeoutException as exc:
            answers["bomb"] = exc

    bomb = threading.Thread(target=send_bomb)
    bomb.start()
    # Sent while the bomb is in flight (or just refused): the event loop must be free.
    health = httpx.get(f"{live_server.url}/healthz", timeout=ANSWER_WITHIN_SECONDS)
    bomb.join(ANSWER_WITHIN_SECONDS * 2)
    assert health.status_code == 200 and health.json()["status"] == "ok"

    response = answers["bomb"]
    # The timeouts are liveness bounds (a test must not hang), not a figure: that the
    # bomb's work is linear is counted in tests/graphql/test_document_limits.py.
    assert isinstance(response, httpx.Response), f"no answer: {response!r}"
    body = response.json()
    assert response.status_code == 200 and body["data"] is None, body
    assert any("once its fragments are expanded" in e["message"] for e in body["errors"]), body


def raw_exchange(url: str, head: bytes, chunks: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    """Send a request by hand (httpx always finishes its body first) and read the answer
    (status, headers, body) while still sending: a server that answers early closes the
    connection with part of the body unread, and the reset must not swallow the answer."""
    parts = urlsplit(url)
    received = bytearray()
    answered = threading.Event()
    with socket.create_connection(
        (parts.hostname, parts.port), timeout=ANSWER_WITHIN_SECONDS
    ) as conn:

        def read() -> None:
            try:
                while not _complete(bytes(received)):
                    data = conn.recv(65536)
                    if not data:
                        break
                    received.extend(data)
            except OSError:
                pass  # reset or timed out: judged by what arrived
            finally:
                answered.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        conn.sendall(head)
        for chunk in chunks:
            if answered.is_set():
                break
            try:
                conn.sendall(chunk)
            except OSError:
                break  # the server answered and closed
        answered.wait(ANSWER_WITHIN_SECONDS)
    assert received, "no answer"
    header_block, _, body = bytes(received).partition(b"\r\n\r\n")
    status_line, *header_lines = header_block.decode("latin-1").split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


def _complete(received: bytes) -> bool:
    if b"\r\n\r\n" not in received:
        return False
    header_block, _, body = received.partition(b"\r\n\r\n")
    for line in header_block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return len(body) >= int(value)
    return False


def request_head(url: str, extra: str) -> bytes:
    host = urlsplit(url).netloc
    return (
        f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{extra}\r\n"
    ).encode()


def refused_413(status: int, body: bytes) -> None:
    assert status == 413, (status, body[:300])
    [error] = json.loads(body)["errors"]
    assert error["message"] == f"the request body is larger than {MAX_BODY} bytes"


def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    live_server: LiveServer,
) -> None:
    # 100 MB announced, not one byte of it sent: the answer must not wait for it.
    status, headers, body = raw_exchange(
        live_server.url, request_head(live_server.url, "Content-Length: 100000000\r\n"), []
    )
    refused_413(status, body)
    assert headers["content-type"] == "application/json"


def test_a_chunked_body_is_counted_as_it_arrives(live_server: LiveServer) -> None:
    # Twice the limit in 64 KiB chunks and never the final empty chunk: the server cannot
    # have waited for the whole body, since it never ends.
    piece = b"a" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    status, _, body = raw_exchange(
        live_server.url,
        request_head(live_server.url, "Transfer-Encoding: chunked\r\n"),
        [chunk] * (2 * MAX_BODY // len(piece)),
    )
    refused_413(status, body)


def test_a_body_under_the_limit_is_served(live_server: LiveServer) -> None:
    variables = {"padding": "a" * (MAX_BODY - 1000)}
    response = httpx.post(
        f"{live_server.url}/graphql",
        timeout=ANSWER_WITHIN_SECONDS,
        json={"query": "query Q { __typename }", "variables": variables},
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json() == {"data": {"__typename": "Query"}}


def test_bad_bytes_get_a_400_in_json_without_a_token(live_server: LiveServer) -> None:
    log = live_server.data_dir / "server.log"
    logged_before = log.read_text()
    cases = {
        b'{"query": "{ __typename \xff\xfe }"}': "not valid UTF-8",
        b"[" * 100_000 + b"]" * 100_000: "nested more than",
        (
            b'{"query": "{ __typename }", "variables": '
            + b'{"a": ' * 100_000
            + b"1"
            + b"}" * 100_001
        ): "nested more than",
    }
    for content, says in cases.items():
        response = httpx.post(
            f"{live_server.url}/graphql",
            content=content,
            headers={"Content-Type": "application/json"},
            timeout=ANSWER_WITHIN_SECONDS,
        )
        assert response.status_code == 400, response.text[:300]
        [error] = response.json()["errors"]
        assert says in error["message"], error
        assert "Traceback" not in response.text
    assert "Traceback" not in log.read_text()[len(logged_before) :]


def test_head_graphql_answers_200_for_uptime_checkers(live_server: LiveServer) -> None:
    response = httpx.head(f"{live_server.url}/graphql", timeout=ANSWER_WITHIN_SECONDS)
    assert response.status_code == 200
    assert response.content == b""  # HEAD: headers only
    assert response.headers["content-type"].startswith("text/html")
