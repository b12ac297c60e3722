"""The WSGI and ASGI middleware carry the incoming call into call()."""

import asyncio
import http.client
import json
import threading
import time
import unittest
import wsgiref.simple_server

import hms_svc
from hms_svc import Client, MeshError

from .servers import Server

INBOUND_TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
INBOUND_RID = "6f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"


def inbound_headers(timeout_ms="2000", request_id=INBOUND_RID):
    return {
        "Content-Type": "application/json",
        "traceparent": INBOUND_TP,
        "tracestate": "hms=1,vendor=x",
        "Svc-Timeout-Ms": timeout_ms,
        "Svc-Request-Id": request_id,
        "Svc-Caller": "gateway",
        "Svc-Attempt": "2",
    }


def handler(environ_or_none=None):
    """What a booth handler does: one or two calls, and it reports what it saw."""
    info = hms_svc.current_call()
    hms_svc.call("payment", "/charge", {"amount": 1})
    hms_svc.call("payment", "/charge", {"amount": 2})
    hms_svc.call("audit-log", "/record", {}, timeout=0.5)
    return {"caller": info.caller, "request_id": info.request_id, "attempt": info.attempt,
            "remaining": info.remaining(), "traceparent": info.traceparent}


def wsgi_app(environ, start_response):
    if environ["PATH_INFO"] == "/late":
        time.sleep(0.01)
        hms_svc.call("payment", "/charge", {})
    if environ["PATH_INFO"] == "/lazy":
        start_response("200 OK", [("Content-Type", "application/json")])
        return (json.dumps(hms_svc.call("fee-calc", "/calculate", {})).encode() for _ in range(1))
    body = json.dumps(handler()).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class MiddlewareCase(unittest.TestCase):
    def setUp(self):
        self.downstream = Server().__enter__()
        self.addCleanup(self.downstream.__exit__, None, None, None)
        hms_svc.set_default_client(Client(self.downstream.url, token="tok"))
        self.addCleanup(hms_svc.set_default_client, None)

    def assert_propagated(self, report):
        calls = self.downstream.received
        self.assertEqual(len(calls), 3)
        for c in calls:
            self.assertEqual(c.headers["traceparent"], INBOUND_TP)
            self.assertEqual(c.headers["tracestate"], "hms=1,vendor=x")
        charge1, charge2, audit = (int(c.headers["svc-timeout-ms"]) for c in calls)
        self.assertTrue(1500 < charge1 <= 2000, charge1)
        self.assertTrue(1500 < charge2 <= charge1, charge2)
        self.assertEqual(audit, 500)  # the explicit timeout is shorter than what is left
        self.assertEqual(report["caller"], "gateway")
        self.assertEqual(report["request_id"], INBOUND_RID)
        self.assertEqual(report["attempt"], 2)
        self.assertEqual(report["traceparent"], INBOUND_TP)
        self.assertTrue(1.5 < report["remaining"] <= 2.0)
        # Each call of the handler has its own key, derived from the request id.
        self.assertEqual(len({c.headers["idempotency-key"] for c in calls}), 3)


class WSGITest(MiddlewareCase):
    def setUp(self):
        super().setUp()
        self.httpd = wsgiref.simple_server.make_server("127.0.0.1", 0, hms_svc.wsgi_middleware(wsgi_app),
                                                       handler_class=_QuietHandler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.addCleanup(self.httpd.server_close)
        self.addCleanup(self.httpd.shutdown)

    def post(self, path, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.httpd.server_port, timeout=5)
        conn.request("POST", path, b"{}", headers)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, json.loads(body)

    def test_trace_and_deadline_reach_the_calls(self):
        status, report = self.post("/work", inbound_headers())
        self.assertEqual(status, 200, report)
        self.assert_propagated(report)

    def test_a_retried_incoming_call_repeats_its_keys(self):
        self.post("/work", inbound_headers())
        self.post("/work", inbound_headers())
        first, second = self.downstream.received[:3], self.downstream.received[3:]
        self.assertEqual([c.headers["idempotency-key"] for c in first], [c.headers["idempotency-key"] for c in second])
        self.post("/work", inbound_headers(request_id="7f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"))
        self.assertNotEqual(self.downstream.received[6].headers["idempotency-key"], first[0].headers["idempotency-key"])

    def test_an_expired_deadline_is_504_and_nothing_is_sent(self):
        status, body = self.post("/late", inbound_headers(timeout_ms="1"))
        self.assertEqual(status, 504)
        self.assertEqual(body["error"]["code"], 504)
        self.assertIn("deadline", body["error"]["message"])
        self.assertEqual(self.downstream.received, [])

    def test_a_lazy_body_is_still_within_the_call(self):
        status, _ = self.post("/lazy", inbound_headers())
        self.assertEqual(status, 200)
        self.assertEqual(self.downstream.received[0].headers["traceparent"], INBOUND_TP)

    def test_no_traceparent_means_one_new_trace_per_request(self):
        h = inbound_headers()
        del h["traceparent"], h["tracestate"]
        self.post("/work", h)
        tps = {c.headers["traceparent"] for c in self.downstream.received}
        self.assertEqual(len(tps), 1)
        self.assertNotIn(INBOUND_TP.split("-")[1], tps.pop())


async def asgi_app(scope, receive, send):
    if scope["type"] == "lifespan":
        await send({"type": "lifespan.startup.complete"})
        return
    await receive()
    if scope["path"] == "/late":
        await asyncio.sleep(0.01)
        await hms_svc.acall("payment", "/charge", {})
    report = await asyncio.to_thread(handler)
    body = json.dumps(report).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def run_asgi(app, path, headers, scope_type="http"):
    """Run one request through the ASGI app as a server does: scope,
    receive and send; return the messages sent."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": scope_type, "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "path": path, "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, receive, send))
    return sent


class ASGITest(MiddlewareCase):
    app = staticmethod(hms_svc.asgi_middleware(asgi_app))

    def test_trace_and_deadline_reach_the_calls(self):
        start, body = run_asgi(self.app, "/work", inbound_headers())
        self.assertEqual(start["status"], 200)
        self.assert_propagated(json.loads(body["body"]))
        self.assertIsNone(hms_svc.current_call())  # nothing leaks out of the request

    def test_an_expired_deadline_is_504_and_nothing_is_sent(self):
        start, body = run_asgi(self.app, "/late", inbound_headers(timeout_ms="1"))
        self.assertEqual(start["status"], 504)
        self.assertEqual(json.loads(body["body"])["error"]["code"], 504)
        self.assertEqual(self.downstream.received, [])

    def test_other_scopes_pass_through(self):
        [msg] = run_asgi(self.app, "", {}, scope_type="lifespan")
        self.assertEqual(msg["type"], "lifespan.startup.complete")


class TraceTest(unittest.TestCase):
    def setUp(self):
        self.srv = Server().__enter__()
        self.addCleanup(self.srv.__exit__, None, None, None)
        self.client = Client(self.srv.url, token="tok")

    def test_calls_in_a_trace_share_it(self):
        with hms_svc.trace() as t:
            self.client.call("fee-calc", "/calculate", {})
            with hms_svc.trace() as inner:
                self.assertIs(inner, t)
                self.client.call("payment", "/charge", {})
        self.client.call("fee-calc", "/calculate", {})
        tps = [r.headers.get("traceparent") for r in self.srv.received]
        self.assertEqual(tps[0], t.traceparent)
        self.assertEqual(tps[1], t.traceparent)
        self.assertIsNone(tps[2])
        self.assertRegex(t.trace_id, r"^[0-9a-f]{32}$")
        self.assertLessEqual(abs(int(t.trace_id[:8], 16) - time.time()), 5)  # starts with the Unix second
        self.assertEqual([(c.service, c.trace_id, c.code) for c in t.calls],
                         [("fee-calc", "ab" * 16, 200), ("payment", "ab" * 16, 200)])

    def test_continue_a_given_traceparent(self):
        with hms_svc.trace(INBOUND_TP, "k=v") as t:
            self.client.call("fee-calc", "/calculate", {})
        self.assertEqual(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736")
        self.assertEqual(self.srv.received[0].headers["tracestate"], "k=v")
        for bad in ("", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", "ff-" + INBOUND_TP[3:], INBOUND_TP.upper()):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                with hms_svc.trace(bad):
                    pass

    def test_failed_calls_are_recorded_too(self):
        with hms_svc.trace() as t, self.assertRaises(MeshError):
            self.client.call("Bad", "/x", {})
        self.assertEqual(t.calls, [])  # refused locally: no call was made
        with Server(lambda req: (404, {"Svc-Trace-Id": "ef" * 16}, b'{"error":{"code":404,"message":"no"}}')) as srv:
            with hms_svc.trace() as t, self.assertRaises(MeshError):
                Client(srv.url, token="tok").call("nobody", "/x", {})
        self.assertEqual([(c.code, c.trace_id) for c in t.calls], [(404, "ef" * 16)])


if __name__ == "__main__":
    unittest.main()
