"""Real loopback servers for the tests: they record what they receive."""

from __future__ import annotations

import http.server
import json
import os
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass
from typing import Callable


@dataclass
class Received:
    method: str
    path: str
    version: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    #: which connection it came on (1, 2, ... in order of accepting).
    connection: int
    #: the client certificate's subject, when TLS asked for one.
    peer_cert: dict | None = None

    def json(self):
        return json.loads(self.body)


Respond = Callable[[Received], tuple[int, dict[str, str], bytes]]


def json_reply(doc, status: int = 200, headers: dict[str, str] | None = None):
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(doc).encode()


def _default(req: Received):
    return json_reply({"ok": True, "path": req.path},
                      headers={"Svc-Trace-Id": "ab" * 16, "Svc-Request-Id": req.headers.get("idempotency-key", "")})


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Buffered: the status, headers and body leave in one write (two writes
    # meet the client's delayed ACK and cost 40 ms a reply).
    wbufsize = 1 << 16
    server: "_Threaded"

    def setup(self):
        super().setup()
        self.conn_no = self.server.owner._next_connection()

    def log_message(self, *args):  # quiet
        pass

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        req = Received(self.command, self.path, self.request_version,
                       {k.lower(): v for k, v in self.headers.items()}, body, self.conn_no, cert)
        owner = self.server.owner
        with owner.lock:
            owner.received.append(req)
        status, headers, out = owner.respond(req)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = do_GET = _handle


class _Threaded(socketserver.ThreadingMixIn):
    daemon_threads = True
    block_on_close = False
    owner: "Server"

    def handle_error(self, request, client_address):
        # A client that gave up (a timeout test) is no error of the server.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _TCP(_Threaded, http.server.HTTPServer):
    pass


class _Unix(_Threaded, socketserver.UnixStreamServer):
    pass


class Server:
    """An HTTP/1.1 server on 127.0.0.1 (or a unix socket) in a thread.

    respond(req) -> (status, headers, body) answers each request; every
    request is kept in .received. Use as a context manager.
    """

    def __init__(self, respond: Respond = _default, *, unix_path: str | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.respond = respond
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._connections = 0
        if unix_path:
            self._srv = _Unix(unix_path, _Handler)
            self.url = "unix://" + unix_path
        else:
            self._srv = _TCP(("127.0.0.1", 0), _Handler)
            if tls is not None:
                self._srv.socket = tls.wrap_socket(self._srv.socket, server_side=True)
            scheme = "https" if tls is not None else "http"
            self.url = f"{scheme}://127.0.0.1:{self._srv.server_address[1]}"
        self._srv.owner = self
        self._unix_path = unix_path
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _next_connection(self) -> int:
        with self.lock:
            self._connections += 1
            return self._connections

    @property
    def connections(self) -> int:
        return self._connections

    def __enter__(self) -> "Server":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        if self._unix_path and os.path.exists(self._unix_path):
            os.unlink(self._unix_path)


def free_port() -> int:
    """A loopback port nothing listens on (just now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
