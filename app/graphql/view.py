"""The GraphQL HTTP endpoint: request context from the Bearer token, GraphiQL served locally,
GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/) for media types and
status codes: README "GraphQL over HTTP". Live subscriptions (app/graphql/live.py) come over
graphql-transport-ws (a WebSocket on /graphql, the token in `connection_init`) and GraphQL
over SSE (a request with `Accept: text/event-stream`): README "Live subscriptions"."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.streaming import HTTPStreamTransport
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from app.accounts.service import authenticate
from app.errors import Unauthenticated
from app.graphql.context import Context, Ports, bearer_token, build_context, parse_bearer
from app.graphql.media import GRAPHQL_RESPONSE_JSON, JSON, negotiate
from app.graphql.transports import (
    CONNECTION_INIT_SECONDS,
    HeartbeatSSE,
    HeartbeatTransportWS,
    wants_event_stream,
)
from app.settings import get_settings
from app.ui.routes import SECURITY_HEADERS
from app.validation import storable

log = logging.getLogger("hoist")

STATIC = Path(__file__).parent / "static"
GRAPHIQL_PAGE = (STATIC / "graphiql.html").read_text()

# The npm packages whose files the GraphiQL page loads, and which files of them may be served.
ASSET_PACKAGES = {
    "graphiql": {"graphiql.min.css", "graphiql.min.js"},
    "react": {"umd/react.production.min.js"},
    "react-dom": {"umd/react-dom.production.min.js"},
}
# Hoist's own files of the page (app/graphql/static), served as /assets/hoist/<name>.
OWN_ASSETS = {"graphiql-page.js", "graphiql-page.css", "favicon.svg"}
# The npm files change only with an upgrade of the set-up; ours are revalidated each time
# (the dashboard's headers say no-cache), so an upgraded Hoist never runs yesterday's page script.
NPM_CACHING = {"Cache-Control": "public, max-age=86400"}

# The dashboard's headers (one definition, app/ui/routes.py), plus fonts from data: URIs:
# GraphiQL's stylesheet embeds its fonts that way. Fonts run no code.
GRAPHIQL_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"]
    + "; font-src 'self' data:",
}

# Variables and extensions nest input objects a few levels; nothing real comes near this.
MAX_JSON_DEPTH = 64


async def graphiql_asset(request: Request) -> Response:
    """GraphiQL's scripts and styles: Hoist's own, and those of the npm packages the set-up
    command installed; the page's strict headers on each."""
    package, path = request.path_params["package"], request.path_params["path"]
    if package == "hoist" and path in OWN_ASSETS:
        return FileResponse(STATIC / path, headers=GRAPHIQL_HEADERS)
    if path not in ASSET_PACKAGES.get(package, set()):
        return JSONResponse({"errors": [{"message": "not found"}]}, status_code=404)
    file = get_settings().node_modules / package / path
    if not file.is_file():
        log.error("GraphiQL asset %s is missing: run `npm ci` (the README's set-up does)", file)
        return JSONResponse({"errors": [{"message": "asset not installed"}]}, status_code=404)
    return FileResponse(file, headers={**GRAPHIQL_HEADERS, **NPM_CACHING})


# NUL written as a GraphQL escape in the query text: \u0000 or \u{0}.
_NUL_ESCAPE = re.compile(r"\\u(?:0000|\{0+\})")


class _TooDeep(ValueError):
    pass


def _unstorable(value: object) -> bool:
    """A string the databases can't store (NUL, lone surrogate), raw from JSON variables or
    as an escape in the query text: it would crash the first query that passes it on.
    Walked with a stack of its own, which also bounds the nesting (_TooDeep)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not storable(item) or _NUL_ESCAPE.search(item):
                return True
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _TooDeep
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


# The methods /graphql answers: HEAD and OPTIONS here, GET and POST through Strawberry.
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"


def _is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution (syntax, validation and limits, variables, operation name):
    no data and no error at a field, since every field error carries its path."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


def _is_unauthenticated(result: ExecutionResult) -> bool:
    code = Unauthenticated.extensions["code"]
    return any(
        isinstance(error.original_error, Unauthenticated)
        or (error.extensions or {}).get("code") == code
        for error in result.errors or []
    )


class MethodNotAllowed(HTTPException):
    """405, with the Allow header listing the methods that would be answered."""

    def __init__(self, reason: str, allow: str) -> None:
        super().__init__(405, reason)
        self.allow = allow


@dataclass
class _Answer:
    """How one request's JSON answer is sent: chosen by __call__, refined by process_result
    (which sees the GraphQL result), applied by __call__ (it lives on request.state)."""

    media_type: str = JSON
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class HoistGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = HeartbeatTransportWS
    stream_transport_classes_by_protocol: dict[str, type[HTTPStreamTransport]] = {
        GRAPHQL_SSE_PROTOCOL: HeartbeatSSE
    }

    def __init__(self, schema: BaseSchema, ports: Ports) -> None:
        settings = get_settings()
        super().__init__(
            schema,
            # Not the legacy graphql-ws protocol, nor multipart subscriptions: one of each kind.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=settings.live_max_subscriptions_per_connection,
            # A page of another origin may open a WebSocket only when CORS lets it call.
            allowed_origins=settings.cors_origins,
        )
        self.ports = ports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, except that a request refused before GraphQL runs (not JSON, no
        query, NUL, a method, media type or Content-Type not served...) is answered in
        GraphQL's JSON shape, not plain text, so every client can read why; and HEAD
        answers as GET would for a browser (uptime checkers)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        answer = request.state.graphql_answer = _Answer()
        try:
            response = await self._respond(request, answer)
        except HTTPException as exc:
            headers = {"Allow": exc.allow} if isinstance(exc, MethodNotAllowed) else {}
            response = JSONResponse(
                {"errors": [{"message": exc.reason}]},
                status_code=exc.status_code,
                headers=headers,
                media_type=answer.media_type,
            )
        await response(scope, receive, send)

    async def _respond(self, request: Request, answer: _Answer) -> Response:
        """GraphiQL for a browser; else the method, then the Accept header, are checked
        before Strawberry runs (and reads the token), so a refusal costs no query."""
        method = request.method
        if method == "HEAD" or self.should_render_graphql_ide(self.request_adapter_class(request)):
            return await self.render_graphql_ide(request)
        if method == "OPTIONS":
            # A CORS preflight is answered by app.cors when origins are configured; without
            # them it gets this, with no CORS headers, so the browser refuses the page.
            return Response(status_code=204, headers={"Allow": ALLOWED_METHODS})
        if wants_event_stream(request.headers.get("accept", "")) and method in ("GET", "POST"):
            # GraphQL over SSE: Strawberry streams each result as an `event: next`, then
            # `event: complete`; errors before execution come as a `next` with errors.
            return await self.run(request)
        media_type = negotiate(request.headers.get("accept", ""))
        if media_type is not None:
            answer.media_type = media_type
        if method not in ("GET", "POST"):
            raise MethodNotAllowed(
                f"{method} is not supported: send GraphQL requests with GET or POST",
                ALLOWED_METHODS,
            )
        if media_type is None:
            raise HTTPException(
                406,
                f"the Accept header accepts neither {GRAPHQL_RESPONSE_JSON} nor {JSON}, "
                "the media types of GraphQL answers",
            )
        response = await self.run(request)
        response.status_code = answer.status
        response.headers.update(answer.headers)
        response.headers["content-type"] = answer.media_type
        return response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A POST body must be JSON, UTF-8 (the spec's one request media type; no uploads,
        no application/graphql): anything else is a 415, where Strawberry answers 400 and
        takes any Content-Type that merely contains "application/json"."""
        if request.method == "POST":
            given = request.content_type or ""
            media_type, params = parse_content_type(given)
            # Compared as Strawberry reads it after this, case and all: "Application/JSON"
            # is refused here in words rather than there with "Unsupported content type".
            if media_type != JSON or params.get("charset", "utf-8").lower() != "utf-8":
                said = f"Content-Type {given[:100]!r}" if given.strip() else "no Content-Type"
                raise HTTPException(
                    415, f"the request has {said}: send the GraphQL request as {JSON}"
                )
        return await super().parse_http_body(request)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A mutation sent with GET is a 405 naming POST (the spec's rule), where
        Strawberry answers 400."""
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if request_adapter.method == "GET" and isinstance(
                exc.__cause__, InvalidOperationTypeError
            ):
                raise MethodNotAllowed(exc.reason + ": send it with POST", "POST") from exc
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Under application/graphql-response+json the status tells what happened: 400
        and no `data` for a request refused before execution, 401 (WWW-Authenticate:
        Bearer) when the document needed a caller and had none; else 200. Under
        application/json, always 200, as before the spec."""
        body = await super().process_result(request, result)
        answer: _Answer = request.state.graphql_answer
        if answer.media_type != GRAPHQL_RESPONSE_JSON:
            return body
        if _is_request_error(result):
            answer.status = 400
            body.pop("data", None)
        elif _is_unauthenticated(result):
            answer.status = 401
            # RFC 6750: a token was sent but is unknown or expired, or none was sent.
            sent = bearer_token(request) is not None
            answer.headers["WWW-Authenticate"] = (
                'Bearer error="invalid_token"' if sent else "Bearer"
            )
        return body

    def decode_json(self, data: str | bytes) -> object:
        """Refuse what the databases cannot store up front (NUL and lone surrogates), and
        bodies that are not UTF-8 or nest deeper than MAX_JSON_DEPTH, as 400s: Strawberry
        itself turns only malformed JSON into one, the rest into a 500 with a traceback."""
        try:
            decoded = super().decode_json(data)
        except UnicodeDecodeError as exc:
            raise HTTPException(
                400, f"the request body is not valid UTF-8 (byte {exc.start})"
            ) from None
        except RecursionError:
            raise HTTPException(
                400, f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
            ) from None
        try:
            unstorable = _unstorable(decoded)
        except _TooDeep:
            raise HTTPException(
                400, f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
            ) from None
        if unstorable:
            raise HTTPException(
                400,
                "strings may not contain the NUL character (\\u0000) "
                "or lone surrogates (\\ud800-\\udfff)",
            )
        return decoded

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if isinstance(request, WebSocket):
            # The caller is known at `connection_init` (on_ws_connect); a token in the
            # handshake's Authorization header counts when the payload has none.
            return Context(request=None, user=None, ports=self.ports, token=bearer_token(request))
        return await build_context(request, self.ports)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws's `connection_init`: its payload's `authorization`
        ("Bearer <token>") names the caller; without a valid token the connection is
        closed with 4403 Forbidden."""
        params = context.connection_params or {}
        given = params.get("authorization", params.get("Authorization"))
        if isinstance(given, str):
            context.token = parse_bearer(given) or given.strip() or None
        context.user = await authenticate(context.token)
        if context.user is None:
            raise ConnectionRejectionError({"message": "a valid API token is required"})
        return await super().on_ws_connect(context)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        # The dashboard's policy: the page runs only Hoist's own files (a token is pasted
        # into it), and no other site may frame it.
        return HTMLResponse(GRAPHIQL_PAGE, headers=GRAPHIQL_HEADERS)
