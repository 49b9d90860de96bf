"""A deployer's webhook endpoint on loopback: records each POST and answers from a script."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verify(
    secret: str, headers: dict[str, str], body: bytes, window: float = 300, now: float | None = None
) -> bool:
    """What the README asks of a receiver: a fresh timestamp, and the HMAC over it and the
    exact bytes received, compared in constant time."""
    timestamp = headers.get("X-Hoist-Timestamp", "")
    now = time.time() if now is None else now
    if not timestamp.isdigit() or abs(now - int(timestamp)) > window:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Hoist-Signature", ""))


class Deployer:
    """`answers` are the status codes of the first POSTs (then 200). With `hold_first`, the
    first POST waits until `release()`, so a test can act while a worker is mid-task.
    With `secret`, a POST that fails `verify` is answered 401 (and counted in `rejected`);
    `body` is what every answer carries."""

    def __init__(
        self,
        answers: list[int] | None = None,
        hold_first: bool = False,
        secret: str | None = None,
        body: bytes = b"{}",
    ) -> None:
        self.answers = list(answers or [])
        self.rejected = 0
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.first_arrived = threading.Event()
        self.released = threading.Event()
        if not hold_first:
            self.released.set()
        deployer = self
        answer = body

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deployer.received.append((dict(self.headers), body))
                deployer.first_arrived.set()
                deployer.released.wait(timeout=60)
                if secret is not None and not verify(secret, dict(self.headers), body):
                    deployer.rejected += 1
                    status = 401
                else:
                    status = deployer.answers.pop(0) if deployer.answers else 200
                try:
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the caller is gone (killed mid-request)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/deploy"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> Deployer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
