"""Client.call against real loopback servers: what is sent, what is raised."""

import json
import threading
import time
import unittest
import uuid

import hms_svc
from hms_svc import Client, MeshError

from .servers import Server, free_port, json_reply

TOKEN = "t0k3n-for-tests"


def sidecar(server: Server, **kw) -> Client:
    return Client(server.url, token=TOKEN, **kw)


class RequestTest(unittest.TestCase):
    def test_request_line_headers_and_body(self):
        with Server() as srv:
            got = sidecar(srv).call("fee-calc", "/calculate", {"license_type": "architect", "name": "Avery"})
        self.assertEqual(got, {"ok": True, "path": "/v1/call/fee-calc/calculate"})
        [req] = srv.received
        self.assertEqual((req.method, req.path, req.version), ("POST", "/v1/call/fee-calc/calculate", "HTTP/1.1"))
        self.assertEqual(req.headers["content-type"], "application/json")
        self.assertEqual(req.headers["authorization"], "Bearer " + TOKEN)
        self.assertEqual(req.json(), {"license_type": "architect", "name": "Avery"})
        key = req.headers["idempotency-key"]
        self.assertEqual(str(uuid.UUID(key)), key)
        self.assertEqual(req.headers["svc-timeout-ms"].isdigit(), True)
        self.assertTrue(4900 <= int(req.headers["svc-timeout-ms"]) <= 5000, req.headers["svc-timeout-ms"])
        self.assertNotIn("traceparent", req.headers)  # no trace here: the mesh starts one

    def test_deep_path_none_body_explicit_key_and_timeout(self):
        key = "0f5b2a4c-1d2e-4f60-8a9b-0c1d2e3f4a5b"
        with Server() as srv:
            sidecar(srv).call("audit-log", "/v2/records/Find_all", None, idempotency_key=key.upper(), timeout=1.5)
        [req] = srv.received
        self.assertEqual(req.path, "/v1/call/audit-log/v2/records/Find_all")
        self.assertEqual(req.body, b"{}")
        self.assertEqual(req.headers["idempotency-key"], key)
        self.assertTrue(1400 <= int(req.headers["svc-timeout-ms"]) <= 1500)

    def test_unicode_body_is_utf8_json(self):
        with Server() as srv:
            sidecar(srv).call("license-printer", "/generate", {"name": "Zoë Ñúñez"})
        self.assertEqual(srv.received[0].body.decode("utf-8"), '{"name":"Zoë Ñúñez"}')

    def test_reply_metadata(self):
        with Server() as srv:
            reply = sidecar(srv).invoke("fee-calc", "/calculate", {})
        self.assertEqual(reply.trace_id, "ab" * 16)
        self.assertEqual(reply.request_id, srv.received[0].headers["idempotency-key"])
        self.assertEqual(reply.status, 200)

    def test_keep_alive_connection_is_reused(self):
        with Server() as srv:
            c = sidecar(srv)
            for _ in range(3):
                c.call("fee-calc", "/calculate", {})
            self.assertEqual([r.connection for r in srv.received], [1, 1, 1])
            # Another thread has its own connection.
            t = threading.Thread(target=c.call, args=("fee-calc", "/calculate", {}))
            t.start()
            t.join()
            self.assertEqual(srv.received[-1].connection, 2)
            c.close()
            c.call("fee-calc", "/calculate", {})
            self.assertEqual(srv.received[-1].connection, 3)

    def test_idle_connections_are_bounded(self):
        with Server() as srv:
            c = sidecar(srv, max_idle=1)
            threads = [threading.Thread(target=c.call, args=("fee-calc", "/calculate", {})) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertLessEqual(c._pool.idle, 1)

    def test_server_closing_idle_connection_is_retried_once(self):
        def close_after(req):
            status, headers, body = json_reply({"n": len(srv.received)})
            return status, {**headers, "Connection": "keep-alive"}, body

        with Server(close_after) as srv:
            c = sidecar(srv)
            c.call("fee-calc", "/calculate", {})
            # Close the server side of the kept connection, as an idle timeout would.
            conn = c._pool._local.slot.conn
            conn.sock.shutdown(2)
            got = c.call("fee-calc", "/calculate", {})
        self.assertEqual(got, {"n": 2})
        self.assertEqual([r.connection for r in srv.received], [1, 2])


class ErrorTest(unittest.TestCase):
    def test_error_reply_maps_to_mesh_error(self):
        tid = "0123456789abcdef0123456789abcdef"
        rid = "9e4b8f7a-6c5d-4e3f-8a1b-2c3d4e5f6a7b"

        def refuse(req):
            return json_reply({"error": {"code": 403, "message": "gateway may not call payment /refund", "trace_id": tid}},
                              403, {"Svc-Request-Id": rid, "Svc-Trace-Id": tid})

        with Server(refuse) as srv, self.assertRaises(MeshError) as cm:
            sidecar(srv).call("payment", "/refund", {"amount": 5})
        e = cm.exception
        self.assertEqual((e.code, e.message, e.trace_id, e.request_id), (403, "gateway may not call payment /refund", tid, rid))
        self.assertEqual((e.service, e.path), ("payment", "/refund"))
        self.assertIn("403 gateway may not call payment /refund", str(e))

    def test_every_contract_code_is_kept(self):
        codes = [400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503, 504]
        answer = iter(codes)

        def respond(req):
            code = next(answer)
            return json_reply({"error": {"code": code, "message": f"m{code}"}}, code)

        with Server(respond) as srv:
            c = sidecar(srv)
            for code in codes:
                with self.subTest(code=code), self.assertRaises(MeshError) as cm:
                    c.call("fee-calc", "/calculate", {})
                self.assertEqual((cm.exception.code, cm.exception.message), (code, f"m{code}"))
                self.assertEqual(cm.exception.request_id, srv.received[-1].headers["idempotency-key"])

    def test_error_body_not_in_mesh_shape(self):
        bodies = iter([
            (502, {"Content-Type": "text/html"}, b"<html>bad gateway</html>"),
            (429, {}, b""),
            (409, {"Content-Type": "application/json"}, b'{"message":"already charged"}'),
        ])
        with Server(lambda req: next(bodies)) as srv:
            c = sidecar(srv)
            got = []
            for _ in range(3):
                with self.assertRaises(MeshError) as cm:
                    c.call("payment", "/charge", {})
                got.append((cm.exception.code, cm.exception.message))
        self.assertEqual(got, [(502, "'<html>bad gateway</html>'"), (429, "Too Many Requests"), (409, "already charged")])

    def test_reply_not_json(self):
        with Server(lambda req: (200, {"Content-Type": "text/plain", "Svc-Trace-Id": "cd" * 16}, b"fine, thanks")) as srv:
            with self.assertRaises(MeshError) as cm:
                sidecar(srv).call("fee-calc", "/calculate", {})
        self.assertEqual(cm.exception.code, 500)
        self.assertIn("not JSON", cm.exception.message)
        self.assertIn("fine, thanks", cm.exception.message)
        self.assertEqual(cm.exception.trace_id, "cd" * 16)

    def test_connection_refused_is_503_quickly(self):
        url = f"http://127.0.0.1:{free_port()}"
        began = time.monotonic()
        with self.assertRaises(MeshError) as cm:
            Client(url, token=TOKEN, retries=0).call("fee-calc", "/calculate", {})
        self.assertLess(time.monotonic() - began, 1.0)
        self.assertEqual(cm.exception.code, 503)
        self.assertIn(url, cm.exception.message)
        self.assertIn("connection refused", cm.exception.message)
        self.assertTrue(cm.exception.request_id)

    def test_no_answer_in_time_is_504(self):
        release = threading.Event()

        def slow(req):
            release.wait(5)
            return json_reply({})

        with Server(slow) as srv:
            try:
                began = time.monotonic()
                with self.assertRaises(MeshError) as cm:
                    sidecar(srv).call("fee-calc", "/calculate", {}, timeout=0.2)
                took = time.monotonic() - began
            finally:
                release.set()
        self.assertEqual(cm.exception.code, 504)
        self.assertLess(took, 1.5)
        self.assertEqual(srv.received[0].headers["svc-timeout-ms"], "200")

    def test_retries_keep_the_key_and_stop_at_a_reply(self):
        answers = iter([json_reply({"error": {"code": 503, "message": "no instance"}}, 503),
                        json_reply({"error": {"code": 503, "message": "no instance"}}, 503),
                        json_reply({"txn": "t-1"})])
        with Server(lambda req: next(answers)) as srv:
            got = sidecar(srv, retries=2).call("payment", "/charge", {"amount": 125, "currency": "USD"})
        self.assertEqual(got, {"txn": "t-1"})
        keys = {r.headers["idempotency-key"] for r in srv.received}
        self.assertEqual(len(srv.received), 3)
        self.assertEqual(len(keys), 1)

    def test_application_errors_are_not_retried(self):
        with Server(lambda req: json_reply({"error": {"code": 400, "message": "no"}}, 400)) as srv:
            with self.assertRaises(MeshError):
                sidecar(srv, retries=2).call("payment", "/charge", {})
        self.assertEqual(len(srv.received), 1)


class LocalRefusalTest(unittest.TestCase):
    """What the mesh would refuse is refused before anything is sent."""

    def test_bad_service_path_key_timeout_or_data(self):
        bad = [
            (("Fee-Calc", "/calculate"), {}, "service name"),
            (("", "/calculate"), {}, "service name is empty"),
            (("a" * 64, "/x"), {}, "service name"),
            (("trace", "/x"), {}, "reserved"),
            (("fee.calc", "/x"), {}, "service name"),
            (("fee-calc", "calculate"), {}, "must start with '/'"),
            (("fee-calc", "/"), {}, "path is empty"),
            (("fee-calc", "/a//b"), {}, "path segment"),
            (("fee-calc", "/a/"), {}, "path segment"),
            (("fee-calc", "/a.b"), {}, "path segment"),
            (("fee-calc", "/a*"), {}, "path segment"),
            (("fee-calc", "/%2e"), {}, "path segment"),
            (("fee-calc", "/" + "x" * 65), {}, "path segment"),
            (("fee-calc", "/a" * 17), {}, "more than 16"),
            (("fee-calc", "/calculate"), {"idempotency_key": "not-a-uuid"}, "not a UUID"),
            (("fee-calc", "/calculate"), {"timeout": 0}, "timeout"),
            (("fee-calc", "/calculate"), {"timeout": -1.0}, "timeout"),
        ]
        with Server() as srv:
            c = sidecar(srv)
            for args, kw, want in bad:
                with self.subTest(args=args, kw=kw), self.assertRaises(MeshError) as cm:
                    c.call(*args, {}, **kw)
                self.assertEqual(cm.exception.code, 400)
                self.assertIn(want, cm.exception.message)
            with self.assertRaises(MeshError) as cm:
                c.call("fee-calc", "/calculate", {"x": float("nan")})
            self.assertEqual(cm.exception.code, 400)
            with self.assertRaises(MeshError):
                c.call("fee-calc", "/calculate", {"x": object()})
            # The longest valid names pass.
            c.call("a" * 63, "/" + "/".join(["x" * 64] * 16), {})
        self.assertEqual(len(srv.received), 1)


class ModuleCallTest(unittest.TestCase):
    def tearDown(self):
        hms_svc.set_default_client(None)

    def test_call_uses_the_default_client(self):
        with Server() as srv:
            hms_svc.set_default_client(sidecar(srv))
            self.assertEqual(hms_svc.call("fee-calc", "/calculate", {"a": 1})["path"], "/v1/call/fee-calc/calculate")
        self.assertEqual(json.loads(srv.received[0].body), {"a": 1})


if __name__ == "__main__":
    unittest.main()
