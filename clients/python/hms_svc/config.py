"""The default client, configured by the environment at first use.

Sidecar (an app behind ``booth-runner --sidecar``):
    HMS_SIDECAR_URL      http://127.0.0.1:3500 or unix:///path/to.sock
    HMS_API_TOKEN        the sidecar's API token, or
    HMS_API_TOKEN_FILE   a file holding it
Bridge (the gateway):
    HMS_BRIDGE_URL       https://127.0.0.1:8443
    HMS_CA_FILE, HMS_CERT_FILE, HMS_KEY_FILE   the mesh CA, the client
                         certificate and its key, or
    HMS_MESH_DIR, HMS_IDENTITY   <dir>/ca.pem, <dir>/<id>.pem, <dir>/<id>-key.pem
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from .client import Client
from .errors import ConfigError

__all__ = ["client_from_env", "default_client", "set_default_client"]

_NOT_CONFIGURED = (
    "hms_svc is not configured: for a sidecar set HMS_SIDECAR_URL and HMS_API_TOKEN (or HMS_API_TOKEN_FILE); "
    "for the bridge set HMS_BRIDGE_URL and HMS_CA_FILE, HMS_CERT_FILE, HMS_KEY_FILE "
    "(or HMS_MESH_DIR and HMS_IDENTITY); or pass a Client to hms_svc.set_default_client"
)


def client_from_env(environ: Mapping[str, str] | None = None, **options) -> Client:
    """A Client configured by environ (os.environ by default); options
    (timeout, retries, max_idle) go to Client. Raises ConfigError naming the
    variables that are missing or in conflict."""
    env = os.environ if environ is None else environ
    get = lambda name: (env.get(name) or "").strip()  # noqa: E731
    sidecar, bridge = get("HMS_SIDECAR_URL"), get("HMS_BRIDGE_URL")
    if sidecar and bridge:
        raise ConfigError("both HMS_SIDECAR_URL and HMS_BRIDGE_URL are set: set the one this program uses")
    if sidecar:
        token, token_file = get("HMS_API_TOKEN"), get("HMS_API_TOKEN_FILE")
        if not token and not token_file:
            raise ConfigError("HMS_SIDECAR_URL is set, but neither HMS_API_TOKEN nor HMS_API_TOKEN_FILE: "
                              "the sidecar answers 401 without its API token")
        if token and token_file:
            raise ConfigError("both HMS_API_TOKEN and HMS_API_TOKEN_FILE are set: set one")
        return Client(sidecar, token=token or None, token_file=token_file or None, **options)
    if bridge:
        files = {n: get(n) for n in ("HMS_CA_FILE", "HMS_CERT_FILE", "HMS_KEY_FILE")}
        mesh_dir, identity = get("HMS_MESH_DIR"), get("HMS_IDENTITY")
        if any(files.values()):
            missing = [n for n, v in files.items() if not v]
            if missing:
                raise ConfigError(f"HMS_BRIDGE_URL is set with {', '.join(n for n in files if files[n])} "
                                  f"but not {', '.join(missing)}")
            return Client(bridge, ca_file=files["HMS_CA_FILE"], cert_file=files["HMS_CERT_FILE"],
                          key_file=files["HMS_KEY_FILE"], **options)
        if mesh_dir and identity:
            return Client(bridge, mesh_dir=mesh_dir, identity=identity, **options)
        missing = "HMS_IDENTITY" if mesh_dir else "HMS_MESH_DIR and HMS_IDENTITY" if not identity else "HMS_MESH_DIR"
        raise ConfigError(f"HMS_BRIDGE_URL is set but not its credentials: set {missing} "
                          "(or HMS_CA_FILE, HMS_CERT_FILE and HMS_KEY_FILE)")
    raise ConfigError(_NOT_CONFIGURED)


_default: Client | None = None
_lock = threading.Lock()


def default_client() -> Client:
    """The client ``hms_svc.call`` uses: the one set with
    set_default_client, else one made from the environment at first use (a
    failure is raised and tried again at the next call)."""
    global _default
    c = _default
    if c is None:
        with _lock:
            if _default is None:
                _default = client_from_env()
            c = _default
    return c


def set_default_client(client: Client | None) -> None:
    """Make client the one ``hms_svc.call`` uses (None: read the environment
    again at the next call)."""
    global _default
    if client is not None and not isinstance(client, Client):
        raise TypeError(f"want an hms_svc.Client, got {type(client).__name__}")
    with _lock:
        old, _default = _default, client
    if old is not None and old is not client:
        old.close()
