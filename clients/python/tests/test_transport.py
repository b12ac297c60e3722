"""The sidecar's unix socket and the bridge's mutual TLS, for real."""

import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

from hms_svc import Client, ConfigError, MeshError

from .servers import Server

OPENSSL = shutil.which("openssl")


class UnixSocketTest(unittest.TestCase):
    def test_sidecar_on_a_unix_socket(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sidecar.sock")
            with Server(unix_path=path) as srv:
                c = Client(srv.url, token="tok")
                self.assertEqual(c.call("fee-calc", "/calculate", {"x": 1})["path"], "/v1/call/fee-calc/calculate")
                c.call("fee-calc", "/calculate", {"x": 2})
            [a, b] = srv.received
            self.assertEqual((a.method, a.path), ("POST", "/v1/call/fee-calc/calculate"))
            self.assertEqual(a.headers["authorization"], "Bearer tok")
            self.assertEqual(a.headers["host"], "localhost")
            self.assertEqual(b.json(), {"x": 2})
            self.assertEqual([a.connection, b.connection], [1, 1])

    def test_missing_socket_is_503(self):
        with tempfile.TemporaryDirectory() as d:
            url = "unix://" + os.path.join(d, "none.sock")
            with self.assertRaises(MeshError) as cm:
                Client(url, token="tok").call("fee-calc", "/calculate", {})
        self.assertEqual(cm.exception.code, 503)
        self.assertIn(url, cm.exception.message)


def _openssl(*args: str, cwd: str) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_pki(d: str) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate
    for "gateway", as meshctl init lays them out (ca.pem, <id>.pem, <id>-key.pem)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test mesh CA", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("gateway", "subjectAltName=URI:spiffe://hms-svc/gateway\nextendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", name + "-key.pem", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                 "-out", name + ".pem", "-days", "1", "-extfile", name + ".ext", cwd=d)


@unittest.skipIf(OPENSSL is None, "openssl is not installed: the bridge's mutual TLS is not tested")
class BridgeTLSTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        make_pki(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def server_tls(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.dir, "server.pem"), os.path.join(self.dir, "server-key.pem"))
        ctx.load_verify_locations(os.path.join(self.dir, "ca.pem"))
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def test_call_presents_the_identity_certificate(self):
        with Server(tls=self.server_tls()) as srv:
            c = Client(srv.url, mesh_dir=self.dir, identity="gateway")
            got = c.call("fee-calc", "/calculate", {"license_type": "architect"})
            c.call("fee-calc", "/calculate", {})
        self.assertEqual(got["path"], "/v1/call/fee-calc/calculate")
        [a, b] = srv.received
        self.assertIn(((("commonName", "gateway"),)), a.peer_cert["subject"])
        self.assertNotIn("authorization", a.headers)
        self.assertEqual([a.connection, b.connection], [1, 1])

    def test_explicit_files(self):
        p = lambda n: os.path.join(self.dir, n)  # noqa: E731
        with Server(tls=self.server_tls()) as srv:
            Client(srv.url, ca_file=p("ca.pem"), cert_file=p("gateway.pem"), key_file=p("gateway-key.pem")).call(
                "fee-calc", "/calculate", {})
        self.assertEqual(len(srv.received), 1)

    def test_a_server_of_another_ca_is_refused(self):
        other = tempfile.mkdtemp()
        try:
            make_pki(other)
            with Server(tls=self.server_tls()) as srv, self.assertRaises(MeshError) as cm:
                Client(srv.url, mesh_dir=other, identity="gateway").call("fee-calc", "/calculate", {})
        finally:
            shutil.rmtree(other)
        self.assertEqual(cm.exception.code, 503)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", cm.exception.message)
        self.assertEqual(srv.received, [])

    def test_missing_credentials_are_named(self):
        with self.assertRaises(ConfigError) as cm:
            Client("https://127.0.0.1:8443", mesh_dir=self.dir, identity="auditor")
        self.assertIn("auditor.pem", cm.exception.message)
        with self.assertRaises(ConfigError) as cm:
            Client("https://127.0.0.1:8443")
        self.assertIn("client certificate", cm.exception.message)

    def test_bridge_is_never_plaintext(self):
        with self.assertRaises(ConfigError) as cm:
            Client("http://127.0.0.1:8443", mesh_dir=self.dir, identity="gateway")
        self.assertIn("not https", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
