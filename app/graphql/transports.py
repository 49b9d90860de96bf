"""The live transports of /graphql (app/graphql/view.py): graphql-transport-ws with
heartbeats and a token check per operation, and GraphQL over SSE with heartbeats."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import SSETransport
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from app.errors import Unauthenticated
from app.graphql.context import Context
from app.graphql.loaders import Loaders
from app.settings import get_settings

# A WebSocket client has this long after connecting to send `connection_init`.
CONNECTION_INIT_SECONDS = 10


class HeartbeatSSE(SSETransport):
    """GraphQL over SSE with a comment (`: ping`) every HOIST_LIVE_HEARTBEAT_SECONDS."""

    def __init__(self) -> None:
        super().__init__(heartbeat_interval=get_settings().live_heartbeat_seconds)


def wants_event_stream(accept: str) -> bool:
    return any(
        part.split(";", 1)[0].strip().lower() == "text/event-stream" for part in accept.split(",")
    )


class HeartbeatTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with a `ping` message every HOIST_LIVE_HEARTBEAT_SECONDS once
    the connection is acknowledged (the protocol lets either side ping; clients answer
    `pong`), so proxies that close idle connections see traffic. Strawberry sends none."""

    pinger: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.pinger is None:
            self.pinger = asyncio.create_task(self._ping())
            self.pinger.add_done_callback(self._task_done)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Each operation starts with the token checked again, the caller's roles re-read
        and fresh loaders: the connection's one context must not answer from rows or
        rights read for an earlier operation. A token revoked meanwhile closes it (4403)."""
        if self.connection_acknowledged:
            self.context.loaders = Loaders()
            try:
                await self.context.reauthenticate()
            except Unauthenticated:
                await self.websocket.close(4403, "Forbidden: the API token is no longer valid")
                return
        await super().handle_subscribe(message)

    async def _ping(self) -> None:
        interval = get_settings().live_heartbeat_seconds
        with suppress(WebSocketDisconnected):  # the connection is gone: handle() ends it
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self.pinger is not None:
            self.pinger.cancel()
            with suppress(asyncio.CancelledError):
                await self.pinger
        await super().shutdown()
