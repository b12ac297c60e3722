#!/usr/bin/env python3
"""fee-calc, in Python: the fee of a license type, from the fee table.

A booth app for ``booth-runner --sidecar``: the sidecar forwards each mesh
call to ``POST <app-url>/calculate`` (endpoints.yaml beside this file lists
the paths), and this app answers as the Go fee-calc does
(internal/booths/feecalc.go):

    {"license_type": "professional-engineer"}  ->  {"license_type": ..., "amount": 125, "currency": "USD"}

a missing or unknown license_type is a 400 naming the known types. It also
serves ``GET /healthz``. Run it with

    python3 examples/python-booth/fee_calc.py [--listen 127.0.0.1:8090] [--fees deployments/fees.yaml]

(or HMS_APP_LISTEN, HMS_FEE_TABLE). It listens on loopback only (the
sidecar is its door to the mesh) and stops, exiting 0, on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import socketserver
import sys
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from feetable import FeeTable, FeeTableError, load_fee_table, quote

_HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import hms_svc
except ImportError:  # run from a checkout without PYTHONPATH set
    sys.path.insert(0, os.path.join(_HERE, "..", "..", "clients", "python"))
    import hms_svc

DEFAULT_LISTEN = "127.0.0.1:8090"
DEFAULT_FEES = os.path.normpath(os.path.join(_HERE, "..", "..", "deployments", "fees.yaml"))
# The largest request body read.
MAX_BODY = 64 << 10
# How much of a caller's value an error message quotes.
CLIP = 64


def clip(s: str) -> str:
    """s quoted for an error message, cut to CLIP characters."""
    return quote(s) if len(s) <= CLIP else quote(s[:CLIP]) + "..."


def calculate(table: FeeTable, req: object) -> dict:
    """The /calculate reply for the decoded request req; MeshError(400) for a
    request without a known license type."""
    known = ", ".join(table.types())
    typ = req.get("license_type", "") if isinstance(req, dict) else None
    if not isinstance(typ, str):
        raise hms_svc.MeshError(400, "fee-calc /calculate: request body: want an object whose license_type is a string")
    if typ == "":
        raise hms_svc.MeshError(400, f"license_type is required; known types: {known}")
    if typ not in table.fees:
        raise hms_svc.MeshError(400, f"unknown license type {clip(typ)}; known types: {known}")
    return {"license_type": typ, "amount": table.fees[typ], "currency": table.currency}


def make_app(table: FeeTable) -> Callable:
    """The WSGI app, within hms_svc's middleware (so calls it would make
    continue the caller's trace and deadline)."""

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        routes = {"/calculate": "POST", "/healthz": "GET"}
        if path not in routes:
            raise hms_svc.MeshError(404, f"no endpoint {path}: this app serves POST /calculate")
        if method != routes[path]:
            raise hms_svc.MeshError(405, f"{path} takes {routes[path]}, not {method}")
        if path == "/healthz":
            return _reply(start_response, {"status": "ok"})
        try:
            n = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            n = -1
        if not 0 <= n <= MAX_BODY:
            raise hms_svc.MeshError(413, f"request body is larger than {MAX_BODY} bytes")
        try:
            req = json.loads(environ["wsgi.input"].read(n) or b"null")
        except ValueError as e:
            raise hms_svc.MeshError(400, f"fee-calc /calculate: request body: {e}") from None
        return _reply(start_response, calculate(table, req))

    return hms_svc.wsgi_middleware(app)


def _reply(start_response: Callable, doc: dict) -> list[bytes]:
    body = json.dumps(doc).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    """One thread a request; a stop waits for those in flight."""

    daemon_threads = False
    block_on_close = True


class _Handler(WSGIRequestHandler):
    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write("fee-calc: " + (fmt % args) + "\n")


def parse_listen(value: str) -> tuple[str, int]:
    """host:port on a loopback address (port 0: any free one)."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    try:
        if not sep or not ipaddress.ip_address(host).is_loopback or not 0 <= int(port) <= 65535:
            raise ValueError
    except ValueError:
        raise SystemExit(f"fee-calc: --listen {value!r}: want a loopback host:port such as {DEFAULT_LISTEN} "
                         "(the sidecar is the app's door to the mesh)") from None
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="fee-calc booth app (behind booth-runner --sidecar)")
    ap.add_argument("--listen", default=os.environ.get("HMS_APP_LISTEN") or DEFAULT_LISTEN,
                    help=f"loopback host:port to serve on (env HMS_APP_LISTEN; default {DEFAULT_LISTEN})")
    ap.add_argument("--fees", default=os.environ.get("HMS_FEE_TABLE") or DEFAULT_FEES,
                    help="fee table (env HMS_FEE_TABLE; default deployments/fees.yaml)")
    args = ap.parse_args(argv)
    host, port = parse_listen(args.listen)
    try:
        table = load_fee_table(args.fees)
    except FeeTableError as e:
        print(f"fee-calc: {e}", file=sys.stderr)
        return 1

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = make_server(host, port, make_app(table), server_class=_Server, handler_class=_Handler)
    bound = server.server_address
    print(f"fee-calc: listening on http://{bound[0]}:{bound[1]} "
          f"({len(table.fees)} license types in {table.currency}, from {args.fees})", flush=True)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    serving.start()
    while not stop.wait(0.5) and serving.is_alive():
        pass
    server.shutdown()
    server.server_close()
    serving.join()
    print("fee-calc: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
