"""The request context: the caller (resolved from the Bearer token) and per-request loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
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


@dataclass
class Context:
    request: Request | None
    user: User | None
    ports: Ports
    _access: Access | None = None
    loaders: Loaders = field(default_factory=Loaders)

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


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


async def build_context(request: Request, ports: Ports) -> Context:
    return Context(request=request, user=await authenticate(bearer_token(request)), ports=ports)


Info = StrawberryInfo[Context, Any]
