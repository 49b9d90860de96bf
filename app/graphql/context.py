"""The request context: the caller (resolved from the Bearer token) and per-request loaders.

A WebSocket connection has one context for all its operations: its token comes in the
`connection_init` message (app/graphql/view.py), and a live subscription starts afresh
loaders for each event it answers (app/graphql/live.py), so no event shows stale rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from app.accounts.access import Access
from app.accounts.models import User
from app.accounts.service import authenticate
from app.errors import Unauthenticated
from app.graphql.loaders import Loaders


@dataclass(frozen=True)
class Ports:
    """What a lower domain's GraphQL type shows of a higher domain's objects: the
    `CdPipeline.policy` field (catalog) answers with a policy (policies, a layer above).
    The API's assembly (app/graphql/schema.py) fills these in, so the lower domain
    imports nothing of the higher one and the domains keep depending one way."""

    # (info, application id, environment id) -> that pair's PromotionPolicy, or None.
    policy_of_pair: Callable[[Info, int, int], Awaitable[Any]]
    # (info, image id) -> the image's ImageEvidence (app/supplychain, above the catalog).
    evidence_of_image: Callable[[Info, int], Awaitable[Any]]


@dataclass
class Context:
    request: Request | None
    user: User | None
    ports: Ports
    _access: Access | None = None
    loaders: Loaders = field(default_factory=Loaders)
    # The API token the caller sent, so a long-lived subscription can check it again.
    token: str | None = None
    # graphql-transport-ws: the `connection_init` payload (Strawberry sets it).
    connection_params: dict[str, object] | None = None

    def caller(self) -> User:
        """The signed-in user; UNAUTHENTICATED when the request carries no valid token.
        Their roles are not read: for what every signed-in user may see (`me`)."""
        if self.user is None:
            raise Unauthenticated(
                "a valid API token is required: send 'Authorization: Bearer <token>'"
            )
        return self.user

    async def access(self) -> Access:
        """The caller's rights (their role bindings, read once per request)."""
        if self._access is None:
            self._access = await Access.of(self.caller())
        return self._access

    async def reauthenticate(self) -> Access:
        """Check the token again and re-read the caller's roles (a live subscription does,
        periodically); UNAUTHENTICATED once it is revoked or expired or its user disabled."""
        self.user = await authenticate(self.token)
        self._access = None
        if self.user is None:
            raise Unauthenticated(
                "the API token was revoked or has expired (or its user was disabled)"
            )
        return await self.access()


def bearer_token(request: Request | WebSocket) -> str | None:
    return parse_bearer(request.headers.get("authorization", ""))


def parse_bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; None for anything else."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


async def build_context(request: Request, ports: Ports) -> Context:
    token = bearer_token(request)
    return Context(request=request, user=await authenticate(token), ports=ports, token=token)


Info = StrawberryInfo[Context, Any]
