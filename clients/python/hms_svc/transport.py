"""Connections to the bridge or the sidecar: one endpoint, kept alive.

http.client connections are not thread-safe, so each thread keeps its own
idle connection per Client, and at most ``max_idle`` are kept across all
threads; a connection of a thread that ended is closed when the thread's
storage goes.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import urllib.parse
import weakref
from dataclasses import dataclass

from .errors import ConfigError

__all__ = ["Endpoint", "Pool"]


class _UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a unix socket (the sidecar's unix:// endpoint)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(self.timeout)
            s.connect(self._path)
        except BaseException:
            s.close()
            raise
        self.sock = s


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """Where calls go: the bridge (https) or a sidecar (http on loopback, or
    a unix socket), and the path prefix of its API."""

    url: str
    scheme: str
    host: str = ""
    port: int = 0
    socket_path: str = ""
    prefix: str = ""
    tls: ssl.SSLContext | None = None

    @classmethod
    def parse(cls, url: str, tls: ssl.SSLContext | None = None) -> "Endpoint":
        """Check url and return its Endpoint; https needs tls."""
        if not isinstance(url, str) or not url:
            raise ConfigError("no URL given for the bridge or the sidecar")
        u = urllib.parse.urlsplit(url)
        if u.query or u.fragment or u.username or u.password:
            raise ConfigError(f"URL {url!r}: want scheme://host:port[/prefix] with no query, fragment or user")
        if u.scheme == "unix":
            if u.netloc or not u.path.startswith("/"):
                raise ConfigError(f"URL {url!r}: a unix socket URL is unix:///absolute/path.sock")
            return cls(url=url, scheme="unix", socket_path=u.path)
        if u.scheme not in ("http", "https"):
            raise ConfigError(f"URL {url!r}: the scheme must be https (bridge), http or unix (sidecar)")
        try:
            port = u.port or (443 if u.scheme == "https" else 80)
        except ValueError as e:
            raise ConfigError(f"URL {url!r}: {e}") from None
        host = u.hostname or ""
        if not host:
            raise ConfigError(f"URL {url!r} names no host")
        if u.scheme == "http" and not _is_loopback(host):
            raise ConfigError(
                f"URL {url!r}: cleartext http is only for a sidecar on this machine (a loopback address); "
                "the bridge is https"
            )
        if u.scheme == "https" and tls is None:
            raise ConfigError(f"URL {url!r}: https needs the mesh CA and a client certificate")
        return cls(url=url.rstrip("/"), scheme=u.scheme, host=host, port=port, prefix=u.path.rstrip("/"), tls=tls)

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        """A new, not yet connected, connection."""
        if self.scheme == "unix":
            return _UnixConnection(self.socket_path, timeout)
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.tls)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def tls_context(ca_file: str, cert_file: str, key_file: str) -> ssl.SSLContext:
    """TLS 1.2+ trusting only the mesh CA, presenting the client certificate."""
    for what, path in (("CA", ca_file), ("certificate", cert_file), ("key", key_file)):
        try:
            with open(path, "rb"):
                pass
        except OSError as e:
            raise ConfigError(f"bridge {what} file {path!r}: {e.strerror or e}") from None
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
        ctx.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as e:
        raise ConfigError(f"loading the bridge credentials ({ca_file}, {cert_file}, {key_file}): {e}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class _Slot:
    """A thread's idle connection; closed and uncounted if the thread ends."""

    def __init__(self, conn: http.client.HTTPConnection, pool: "Pool", generation: int) -> None:
        self.conn = conn
        self.generation = generation
        self._fin = weakref.finalize(self, Pool._forget, weakref.ref(pool), conn)


class Pool:
    """Keep-alive connections of one endpoint, one idle per thread, at most
    max_idle idle in all."""

    def __init__(self, endpoint: Endpoint, max_idle: int) -> None:
        self.endpoint = endpoint
        self._max = max_idle
        self._local = threading.local()
        # Re-entrant: a slot's finalizer may run (garbage collection) in a
        # thread that holds the lock.
        self._lock = threading.RLock()
        self._idle = 0
        self._generation = 0

    @property
    def idle(self) -> int:
        """How many idle connections are kept (all threads)."""
        return self._idle

    def take(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's idle connection (True) or a new one (False)."""
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is not None:
            self._local.slot = None
            if slot._fin.detach() is not None:  # else the finalizer closed it
                with self._lock:
                    self._idle -= 1
                conn = slot.conn
                if slot.generation == self._generation and conn.sock is not None:
                    conn.timeout = timeout
                    conn.sock.settimeout(timeout)
                    return conn, True
                conn.close()
        return self.endpoint.connect(timeout), False

    def give(self, conn: http.client.HTTPConnection) -> None:
        """Keep conn as this thread's idle connection, or close it when
        max_idle are kept already."""
        with self._lock:
            keep = self._idle < self._max
            if keep:
                self._idle += 1
        if not keep:
            conn.close()
            return
        old = getattr(self._local, "slot", None)
        self._local.slot = _Slot(conn, self, self._generation)
        if old is not None:  # not reached: a thread takes before it gives
            old._fin()

    def close(self) -> None:
        """Close this thread's idle connection; other threads close theirs
        on their next call."""
        self._generation += 1
        slot = getattr(self._local, "slot", None)
        self._local.slot = None
        if slot is not None:
            slot._fin()

    @staticmethod
    def _forget(pool_ref: "weakref.ref[Pool]", conn: http.client.HTTPConnection) -> None:
        conn.close()
        pool = pool_ref()
        if pool is not None:
            with pool._lock:
                pool._idle -= 1
