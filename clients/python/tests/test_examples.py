"""The Python examples: fee_calc.py as a real process, and the gateway's
issue_license against a loopback stand-in for the mesh."""

import http.client
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

import hms_svc
from hms_svc import Client

from .servers import Server, json_reply

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FEE_CALC = os.path.join(ROOT, "examples", "python-booth", "fee_calc.py")
GATEWAY = os.path.join(ROOT, "examples", "python-gateway", "gateway.py")
KNOWN = "architect, electrician, land-surveyor, plumber, professional-engineer, real-estate-broker"


def start_fee_calc(*args):
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "clients", "python")}
    return subprocess.Popen([sys.executable, FEE_CALC, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)


class FeeCalcProcessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = start_fee_calc("--listen", "127.0.0.1:0")
        line = cls.proc.stdout.readline()
        if "listening on http://127.0.0.1:" not in line:
            cls.proc.kill()
            raise AssertionError(f"fee_calc.py did not start: {line!r} {cls.proc.stderr.read()}")
        cls.port = int(line.split("http://127.0.0.1:", 1)[1].split()[0])

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait()
        cls.proc.stdout.close()
        cls.proc.stderr.close()

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type"), json.loads(resp.read())
        finally:
            conn.close()

    def test_calculate(self):
        status, ctype, body = self.request("POST", "/calculate", {"license_type": "professional-engineer", "name": "A"},
                                           {"Svc-Request-Id": str(uuid.uuid4()), "Svc-Caller": "gateway",
                                            "Svc-Timeout-Ms": "300", "Svc-Attempt": "1"})
        self.assertEqual((status, ctype), (200, "application/json"))
        self.assertEqual(body, {"license_type": "professional-engineer", "amount": 125, "currency": "USD"})
        self.assertEqual(self.request("POST", "/calculate", {"license_type": "real-estate-broker"})[2]["amount"], 95.5)

    def test_unknown_or_missing_type_is_400_naming_the_known_types(self):
        status, _, body = self.request("POST", "/calculate", {"license_type": "astronaut"})
        self.assertEqual(status, 400)
        self.assertEqual(body, {"error": {"code": 400, "message": f'unknown license type "astronaut"; known types: {KNOWN}'}})
        status, _, body = self.request("POST", "/calculate", {"name": "Avery"})
        self.assertEqual((status, body["error"]["message"]), (400, f"license_type is required; known types: {KNOWN}"))
        status, _, body = self.request("POST", "/calculate", {"license_type": 7})
        self.assertEqual(status, 400)

    def test_healthz_and_unknown_paths(self):
        self.assertEqual(self.request("GET", "/healthz")[:1], (200,))
        self.assertEqual(self.request("POST", "/refund", {})[0], 404)
        self.assertEqual(self.request("GET", "/calculate")[0], 405)

    def test_zz_sigterm_exits_0(self):  # runs last: it stops the process
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=5), 0)


class FeeCalcStartTest(unittest.TestCase):
    def test_bad_fee_table_or_listen_address_refuses_to_start(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write("currency: USD\nfees:\n  plumber: 7.505\n")
            f.flush()
            p = start_fee_calc("--listen", "127.0.0.1:0", "--fees", f.name)
            out, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"bad fee table {f.name}: fees: plumber: fee must be positive with at most 2 decimals", err)
        p = start_fee_calc("--listen", "0.0.0.0:8090")
        _, err = p.communicate(timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("loopback", err)


def load_gateway():
    spec = importlib.util.spec_from_file_location("python_gateway", GATEWAY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fake_mesh(req):
    """The four booths' replies, as the bridge passes them on."""
    replies = {
        "/v1/call/fee-calc/calculate": {"license_type": "professional-engineer", "amount": 125, "currency": "USD"},
        "/v1/call/payment/charge": {"txn": "txn-" + req.headers["idempotency-key"][:8], "amount": 125, "currency": "USD"},
        "/v1/call/license-printer/generate": {"id": "lic-1", "url": "/v1/licenses/lic-1"},
        "/v1/call/audit-log/record": {"id": "rec-1", "seq": 1},
    }
    trace_id = req.headers["traceparent"].split("-")[1]
    return json_reply(replies[req.path], headers={"Svc-Trace-Id": trace_id})


class GatewayFlowTest(unittest.TestCase):
    def test_issue_license_makes_four_calls_in_one_trace_and_charges_once(self):
        gw = load_gateway()
        app = str(uuid.uuid4())
        payload = {"application_id": app, "name": "Avery Johnson", "ssn": "123-45-6789",
                   "license_type": "professional-engineer"}
        with Server(fake_mesh) as srv:
            hms_svc.set_default_client(Client(srv.url, token="tok"))
            self.addCleanup(hms_svc.set_default_client, None)
            with hms_svc.trace() as t:
                got = gw.issue_license(payload)
            again = gw.issue_license(payload)
        charge_key = str(uuid.uuid5(gw.CHARGES, app))
        self.assertEqual(got, {"license_pdf": "/v1/licenses/lic-1", "receipt": "txn-" + charge_key[:8],
                               "fee": 125, "currency": "USD"})
        first = srv.received[:4]
        self.assertEqual([r.path for r in first], ["/v1/call/fee-calc/calculate", "/v1/call/payment/charge",
                                                   "/v1/call/license-printer/generate", "/v1/call/audit-log/record"])
        self.assertEqual({r.headers["traceparent"] for r in first}, {t.traceparent})
        self.assertEqual([c.trace_id for c in t.calls], [t.trace_id] * 4)
        self.assertEqual(first[1].json(), {"amount": 125, "currency": "USD"})
        self.assertEqual(first[1].headers["idempotency-key"], charge_key)
        self.assertEqual(first[3].json(), {"user": "123-45-6789", "fee": 125, "doc_id": "lic-1"})
        # Issued again for the same application: the same charge key, a new trace.
        self.assertEqual(again["receipt"], got["receipt"])
        self.assertEqual(srv.received[5].headers["idempotency-key"], charge_key)
        self.assertNotEqual(srv.received[4].headers["traceparent"], t.traceparent)


if __name__ == "__main__":
    unittest.main()
