"""Configuration from the environment, and its errors."""

import os
import tempfile
import unittest

import hms_svc
from hms_svc import Client, ConfigError, MeshError, client_from_env

from .servers import Server


class EnvTest(unittest.TestCase):
    def test_nothing_configured_names_both_modes(self):
        with self.assertRaises(ConfigError) as cm:
            client_from_env({})
        e = cm.exception
        self.assertIsInstance(e, MeshError)
        for name in ("HMS_SIDECAR_URL", "HMS_API_TOKEN", "HMS_API_TOKEN_FILE", "HMS_BRIDGE_URL",
                     "HMS_CA_FILE", "HMS_CERT_FILE", "HMS_KEY_FILE", "HMS_MESH_DIR", "HMS_IDENTITY"):
            self.assertIn(name, e.message)

    def test_sidecar_with_token_or_token_file(self):
        with Server() as srv, tempfile.NamedTemporaryFile("w", suffix=".token") as f:
            f.write("from-file\n")
            f.flush()
            client_from_env({"HMS_SIDECAR_URL": srv.url, "HMS_API_TOKEN": "from-env"}).call("a", "/b", {})
            client_from_env({"HMS_SIDECAR_URL": srv.url, "HMS_API_TOKEN_FILE": f.name}).call("a", "/b", {})
        self.assertEqual([r.headers["authorization"] for r in srv.received], ["Bearer from-env", "Bearer from-file"])

    def test_bad_combinations_are_named(self):
        cases = [
            ({"HMS_SIDECAR_URL": "http://127.0.0.1:3500"}, "HMS_API_TOKEN"),
            ({"HMS_SIDECAR_URL": "http://127.0.0.1:3500", "HMS_API_TOKEN": "a", "HMS_API_TOKEN_FILE": "/x"}, "set one"),
            ({"HMS_SIDECAR_URL": "http://127.0.0.1:3500", "HMS_API_TOKEN_FILE": "/nonexistent/token"}, "/nonexistent/token"),
            ({"HMS_SIDECAR_URL": "http://10.0.0.5:3500", "HMS_API_TOKEN": "a"}, "loopback"),
            ({"HMS_SIDECAR_URL": "ftp://127.0.0.1", "HMS_API_TOKEN": "a"}, "scheme"),
            ({"HMS_SIDECAR_URL": "unix://relative.sock", "HMS_API_TOKEN": "a"}, "unix:///"),
            ({"HMS_SIDECAR_URL": "http://127.0.0.1:3500", "HMS_API_TOKEN": "a b"}, "without spaces"),
            ({"HMS_SIDECAR_URL": "http://127.0.0.1:3500", "HMS_BRIDGE_URL": "https://127.0.0.1:8443"}, "both"),
            ({"HMS_BRIDGE_URL": "https://127.0.0.1:8443"}, "HMS_MESH_DIR and HMS_IDENTITY"),
            ({"HMS_BRIDGE_URL": "https://127.0.0.1:8443", "HMS_MESH_DIR": ".mesh"}, "HMS_IDENTITY"),
            ({"HMS_BRIDGE_URL": "https://127.0.0.1:8443", "HMS_CA_FILE": "ca.pem"}, "HMS_CERT_FILE, HMS_KEY_FILE"),
            ({"HMS_BRIDGE_URL": "https://127.0.0.1:8443", "HMS_MESH_DIR": "/nonexistent", "HMS_IDENTITY": "gateway"},
             "/nonexistent/ca.pem"),
            ({"HMS_BRIDGE_URL": "http://127.0.0.1:8443", "HMS_MESH_DIR": "/x", "HMS_IDENTITY": "gateway"}, "not https"),
        ]
        for env, want in cases:
            with self.subTest(env=env), self.assertRaises(ConfigError) as cm:
                client_from_env(env)
            self.assertIn(want, cm.exception.message)
            self.assertEqual(cm.exception.code, 500)

    def test_client_options_are_checked(self):
        for kw in ({"timeout": 0}, {"timeout": 31}, {"retries": -1}, {"max_idle": -1}):
            with self.subTest(kw=kw), self.assertRaises(ConfigError):
                Client("http://127.0.0.1:3500", token="t", **kw)

    def test_default_client_reads_environment_at_first_use(self):
        saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("HMS_")}
        try:
            hms_svc.set_default_client(None)
            with self.assertRaises(ConfigError):
                hms_svc.call("fee-calc", "/calculate", {})
            with Server() as srv:
                os.environ.update({"HMS_SIDECAR_URL": srv.url, "HMS_API_TOKEN": "tok"})
                hms_svc.call("fee-calc", "/calculate", {})
                self.assertEqual(hms_svc.default_client().endpoint.url, srv.url)
            self.assertEqual(srv.received[0].headers["authorization"], "Bearer tok")
        finally:
            hms_svc.set_default_client(None)
            for k in [k for k in os.environ if k.startswith("HMS_")]:
                del os.environ[k]
            os.environ.update(saved)


if __name__ == "__main__":
    unittest.main()
