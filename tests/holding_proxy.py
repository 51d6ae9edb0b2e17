"""A loopback HTTP proxy in front of moto that can hold the reply to one DynamoDB operation
until the test releases it, so that a signal lands exactly while terraform waits for it.

``hold("CreateTable")``: the request reaches moto (the table is created), but terraform does not
get the answer until ``release()``; ``held`` is set once a reply is being held. Every other
request passes straight through.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_TARGET_PREFIX = "DynamoDB_20120810."


class HoldingProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._operation: str | None = None
        self._after: str | None = None
        self._armed = False
        self._lock = threading.Lock()
        self.held = threading.Event()
        self._released = threading.Event()
        self.seen: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def hold(self, operation: str, *, after: str | None = None) -> None:
        """Hold the first reply to ``operation`` (once ``after`` has been seen, if given)."""
        with self._lock:
            self._operation, self._after, self._armed = operation, after, after is None
            self.held.clear()
            self._released.clear()

    def release(self) -> None:
        self._released.set()

    def _should_hold(self, operation: str) -> bool:
        with self._lock:
            self.seen.append(operation)
            if self._operation is None:
                return False
            if not self._armed:
                self._armed = operation == self._after
                return False
            if operation == self._operation and not self.held.is_set():
                self.held.set()
                return True
            return False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("X-Amz-Target", "")
                operation = target.removeprefix(_TARGET_PREFIX) if target.startswith(_TARGET_PREFIX) else ""
                upstream = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                upstream.close()
                if operation and proxy._should_hold(operation):
                    proxy._released.wait(120)
                try:
                    self.send_response(reply.status, reply.reason)
                    for name, value in reply.getheaders():
                        if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting (cancelled): nothing to answer
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def holding_proxy(upstream: str) -> Iterator[HoldingProxy]:
    proxy = HoldingProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
