"""A real HTTP receiver on 127.0.0.1 for webhook tests: it checks each request's signature with the secret it is
given, records what it received, answers a chosen status, and can go down and come back on the same port."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from forum.services.webhooks.signing import HEADER, verify


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.status = 200
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/groundwork"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append({
                        "event": self.headers.get("X-Groundwork-Event"),
                        "delivery": self.headers.get("X-Groundwork-Delivery"),
                        "signed": verify(receiver.secret, body, self.headers.get(HEADER, "")),
                        "payload": json.loads(body or b"{}"), "path": self.path,
                    })
                    status = receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until ``start`` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[str]:
        with self._lock:
            return [r["event"] for r in self.received]

    def wait_for(self, count: int, seconds: float = 20) -> list[dict]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        with self._lock:
            return list(self.received)
