"""Where a webhook may point: not into the network Hoist runs in.

An endpoint on a loopback, private, link-local or otherwise non-global address would let
whoever registers it make the server reach internal services (SSRF), so such hosts are
refused unless HOIST_WEBHOOK_ALLOW_PRIVATE is set. The host is resolved when the endpoint
is saved and again before every try (a name may later point elsewhere); every address it
resolves to must be global. The connection itself resolves once more, so a name that
changes within that moment is not caught: a deployment that must rule that out too puts
an egress proxy in front of Hoist.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

RESOLVE_TIMEOUT_SECONDS = 5.0


def url_problem(url: str) -> str | None:
    """What is wrong with the URL's form, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    if parts.username or parts.password:
        return "may not carry a user name or password (use the secret to authenticate)"
    if port == 0:
        return "has port 0"
    return None


async def address_problem(url: str, allow_private: bool) -> str | None:
    """Why Hoist may not POST to the URL's host now, or None."""
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
            RESOLVE_TIMEOUT_SECONDS,
        )
    except (OSError, TimeoutError):
        return f"host {host} does not resolve"
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])  # minus a scope id
        if not address.is_global or address.is_multicast:
            return (
                f"host {host} is a loopback, private or link-local address ({address}); "
                "set HOIST_WEBHOOK_ALLOW_PRIVATE=true to allow it"
            )
    return None
