"""A deployer's webhook endpoint on loopback: records each POST and answers from a script."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Deployer:
    """`answers` are the status codes of the first POSTs (then 200). With `hold_first`, the
    first POST waits until `release()`, so a test can act while a worker is mid-task."""

    def __init__(self, answers: list[int] | None = None, hold_first: bool = False) -> None:
        self.answers = list(answers or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.first_arrived = threading.Event()
        self.released = threading.Event()
        if not hold_first:
            self.released.set()
        deployer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deployer.received.append((dict(self.headers), body))
                deployer.first_arrived.set()
                deployer.released.wait(timeout=60)
                status = deployer.answers.pop(0) if deployer.answers else 200
                try:
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b"{}")
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
