"""Clients of Hoist's live subscriptions over real connections: graphql-transport-ws (the
`websockets` package) and GraphQL over SSE (httpx streaming). Each read has a deadline,
which bounds a failure only; `subscribers` reads /healthz, to know a subscription is in
place before the change it should hear is made."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets

from tests.support.waiting import eventually

READ_SECONDS = 20.0


class Closed(Exception):
    """The server ended the subscription (or the connection): why, as it said."""

    def __init__(self, reason: object) -> None:
        super().__init__(str(reason))
        self.reason = reason


class WsSubscription:
    def __init__(self, socket: websockets.ClientConnection, id: str) -> None:
        self.socket = socket
        self.id = id
        self.pings = 0

    async def next(self, timeout: float = READ_SECONDS) -> dict[str, Any]:
        """The payload of the next `next` message; Closed at `error`, `complete` or a
        closed connection. Server pings are answered with pong, as the protocol asks."""
        async with asyncio.timeout(timeout):
            while True:
                try:
                    message = json.loads(await self.socket.recv())
                except websockets.ConnectionClosed as exc:
                    raise Closed(f"connection closed: {exc.rcvd}") from None
                if message["type"] == "ping":
                    self.pings += 1
                    await self.socket.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next" and message["id"] == self.id:
                    if message["payload"].get("errors"):
                        raise Closed(message["payload"]["errors"])
                    return dict(message["payload"]["data"])
                elif message["type"] in {"error", "complete"}:
                    raise Closed(message)


@asynccontextmanager
async def ws_subscription(
    url: str, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[WsSubscription]:
    """A graphql-transport-ws connection to `url` (http://...), acknowledged, with one
    subscription started."""
    ws_url = url.replace("http://", "ws://", 1) + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        async with asyncio.timeout(READ_SECONDS):
            ack = json.loads(await socket.recv())
        assert ack["type"] == "connection_ack", ack
        message = {"query": query, "variables": variables or {}}
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": message}))
        yield WsSubscription(socket, "1")


class SseSubscription:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        # Read by a task of its own: a read given up at its deadline must not close the
        # stream (cancelling an async generator mid-read ends it).
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())
        self.comments = 0

    async def _read(self) -> None:
        try:
            async for line in self.response.aiter_lines():
                await self.lines.put(line)
        finally:
            await self.lines.put(None)

    async def event(self, timeout: float = READ_SECONDS) -> tuple[str, str]:
        """The next event's (name, data); Closed when the stream ends."""
        name, data = "", ""
        async with asyncio.timeout(timeout):
            while (line := await self.lines.get()) is not None:
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif not line and name:
                    return name, data
        raise Closed("the stream ended")

    async def next(self, timeout: float = READ_SECONDS) -> dict[str, Any]:
        """The data of the next `next` event; Closed at errors or `complete`."""
        name, data = await self.event(timeout)
        if name != "next":
            raise Closed(name)
        body = json.loads(data)
        if body.get("errors"):
            raise Closed(body["errors"])
        return dict(body["data"])


@asynccontextmanager
async def sse_subscription(
    url: str, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[SseSubscription]:
    """A GraphQL over SSE request (distinct connections mode) to `url`."""
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(READ_SECONDS, read=None)) as http,
        http.stream(
            "POST",
            f"{url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        subscription = SseSubscription(response)
        try:
            yield subscription
        finally:
            subscription.reader.cancel()


def live_status(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/healthz", timeout=10).json()["live"])


async def subscribers(url: str, count: int) -> None:
    """Wait until the server at `url` holds `count` subscriptions, fed by its broker."""

    async def held() -> bool:
        async with httpx.AsyncClient(timeout=10) as http:
            status = (await http.get(f"{url}/healthz")).json()["live"]
        return bool(status["subscribers"] == count and status["listening"])

    await eventually(held, f"{count} live subscriptions at {url}")
