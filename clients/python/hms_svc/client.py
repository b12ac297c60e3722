"""Client: calls through the bridge or a sidecar, as the call API says.

``POST {base}/v1/call/{service}/{path}`` with a JSON body; the reply is the
booth's JSON, an error is ``{"error": {"code", "message", "trace_id"}}`` with
the HTTP status of the code, raised here as MeshError.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from . import context, tracing
from .errors import ConfigError, MeshError
from .names import validate_path, validate_service
from .credentials import api_token, bridge_files
from .transport import Endpoint, Pool, tls_context

__all__ = ["Client", "Reply", "Key", "DEFAULT_TIMEOUT", "MAX_TIMEOUT"]

#: An idempotency key: a UUID, as text or uuid.UUID (None: one is made).
Key = str | uuid.UUID | None

#: A call's budget when neither the caller nor the incoming call sets one
#: (the mesh's default).
DEFAULT_TIMEOUT = 5.0
#: The largest budget the mesh grants a call; longer ones are cut to it.
MAX_TIMEOUT = 30.0
# How much longer than a call's budget the client waits for the answer, so
# that the mesh's own 504 (which names the trace) arrives first.
_GRACE = 0.5
# The largest reply read (the mesh's messages are far smaller).
MAX_REPLY = 8 << 20
# Codes after which an attempt may be made again with the same key: the
# call surely did not reach a booth that acted on it, or the booth
# replays its answer for the key.
_RETRYABLE = frozenset({502, 503})
_RETRY_WAIT = 0.1


@dataclass(frozen=True)
class Reply:
    """A call's answer with what the mesh said about it."""

    #: the booth's reply, decoded from JSON.
    data: Any
    #: the trace the call was recorded in (Svc-Trace-Id), or "".
    trace_id: str
    #: the call's request id (Svc-Request-Id, else the Idempotency-Key sent).
    request_id: str
    status: int


class Client:
    """Calls booths through the bridge (https) or a sidecar (http on
    loopback, or unix:///path.sock).

    Args:
        url: the bridge's ``https://host:port`` or the sidecar's outbound
            endpoint (``http://127.0.0.1:3500``, ``unix:///run/app.sock``).
        token, token_file: the sidecar's API token, or a file holding it
            (read once, here). Sidecar only, and required there.
        ca_file, cert_file, key_file: the mesh CA and the client certificate
            and key presented to the bridge; or ``mesh_dir`` and ``identity``
            for ``<dir>/ca.pem``, ``<dir>/<identity>.pem`` and
            ``<dir>/<identity>-key.pem``. Bridge only, and required there.
        timeout: the default budget of a call, in seconds (at most 30).
        retries: how many more attempts a call makes after a 502 or 503 or
            a connection failure, with the same Idempotency-Key, while its
            budget lasts (the mesh already retries what is safe behind the
            bridge; 0 leaves it at that).
        max_idle: the most idle keep-alive connections kept, over all threads.

    Raises ConfigError naming what is missing or wrong. The bridge is spoken
    to over TLS only: an http:// URL is taken for a sidecar, and only on a
    loopback address.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        token_file: str | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        mesh_dir: str | None = None,
        identity: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 0,
        max_idle: int = 16,
    ) -> None:
        if not (isinstance(timeout, (int, float)) and 0 < timeout <= MAX_TIMEOUT):
            raise ConfigError(f"timeout {timeout!r}: want seconds, more than 0 and at most {MAX_TIMEOUT:g}")
        if not (isinstance(retries, int) and 0 <= retries <= 10):
            raise ConfigError(f"retries {retries!r}: want 0 to 10")
        if not (isinstance(max_idle, int) and max_idle >= 0):
            raise ConfigError(f"max_idle {max_idle!r}: want 0 or more")
        if not isinstance(url, str) or not url.strip():
            raise ConfigError("no URL given: the bridge's https://host:port or the sidecar's http:// or unix:// URL")
        bridge = url.startswith("https:")
        tls = None
        if bridge:
            if token or token_file:
                raise ConfigError("an API token is for the sidecar; the bridge checks the client certificate")
            tls = tls_context(*bridge_files(ca_file, cert_file, key_file, mesh_dir, identity))
            self._auth = ""
        else:
            if ca_file or cert_file or key_file or mesh_dir or identity:
                raise ConfigError(f"URL {url!r} is not https: certificates are for the bridge; a sidecar takes an API token")
            self._auth = "Bearer " + api_token(token, token_file)
        self.endpoint = Endpoint.parse(url, tls)
        #: "bridge" or "sidecar", for messages.
        self.mode = "bridge" if bridge else "sidecar"
        self.timeout = float(timeout)
        self.retries = retries
        self._pool = Pool(self.endpoint, max_idle)

    def __repr__(self) -> str:
        return f"Client({self.endpoint.url!r}, {self.mode})"

    def close(self) -> None:
        """Close the keep-alive connections (this thread's now, the others'
        at their next call)."""
        self._pool.close()

    def call(self, service: str, path: str, data: Any = None, *,
             idempotency_key: Key = None, timeout: float | None = None) -> Any:
        """Call path on service with data (JSON; None sends {}) and return
        the booth's reply. See invoke for the arguments; raises MeshError."""
        return self.invoke(service, path, data, idempotency_key=idempotency_key, timeout=timeout).data

    def invoke(self, service: str, path: str, data: Any = None, *,
               idempotency_key: Key = None, timeout: float | None = None) -> Reply:
        """Call path on service and return the Reply (data, trace id, request id).

        idempotency_key (a UUID) is sent on every attempt of this call; give
        the same one when calling again for the same logical operation, and
        an exactly-once booth (payment /charge) answers with its first reply
        instead of acting twice. Without one, a new key is made, or, while a
        mesh call is being handled, one derived from its request id (so a
        retried incoming call repeats its outgoing calls' keys).

        timeout (seconds) is the call's budget, sent as Svc-Timeout-Ms; the
        time left of the incoming call's deadline caps it, and a deadline
        already passed raises MeshError(504) without sending anything.
        """
        validate_service(service)
        validate_path(path)
        key = _idempotency_key(service, path, idempotency_key)
        err = lambda code, msg: MeshError(code, msg, request_id=key, service=service, path=path)  # noqa: E731
        try:
            body = json.dumps({} if data is None else data, ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as e:
            raise err(400, f"request data is not JSON: {e}") from None
        budget = self._budget(timeout, err)
        deadline = time.monotonic() + budget
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": key,
            "User-Agent": "hms-svc-python/1",
        }
        if self._auth:
            headers["Authorization"] = self._auth
        t = tracing.current_trace()
        if t is not None:
            headers["traceparent"] = t.traceparent
            if t.tracestate:
                headers["tracestate"] = t.tracestate
        target = f"{self.endpoint.prefix}/v1/call/{service}{path}"
        attempt = 0
        while True:
            # The first attempt sends the whole budget, the others what is left.
            left = budget if attempt == 0 else deadline - time.monotonic()
            if left < 0.001:
                raise err(504, f"the call's {self.timeout if timeout is None else timeout:g} s ran out")
            headers["Svc-Timeout-Ms"] = str(int(left * 1000))
            try:
                reply = self._once(target, body, headers, left, err)
            except MeshError as e:
                wait = _RETRY_WAIT * (0.5 + random.random())
                if attempt < self.retries and e.code in _RETRYABLE and deadline - time.monotonic() > wait + 0.01:
                    attempt += 1
                    time.sleep(wait)
                    continue
                if t is not None:
                    t.record(tracing.TracedCall(service, path, e.trace_id, e.request_id, e.code))
                raise
            if t is not None:
                t.record(tracing.TracedCall(service, path, reply.trace_id, reply.request_id, reply.status))
            return reply

    def _budget(self, timeout: float | None, err) -> float:
        budget = self.timeout if timeout is None else timeout
        if not (isinstance(budget, (int, float)) and budget > 0):
            raise err(400, f"timeout {budget!r}: want a positive number of seconds")
        budget = min(float(budget), MAX_TIMEOUT)
        info = context.current_call()
        left = info.remaining() if info is not None else None
        if left is not None:
            if left < 0.001:
                rid = f" (request {info.request_id})" if info.request_id else ""
                raise err(504, f"the deadline of the call being handled{rid} has passed: not sent")
            budget = min(budget, left)
        return budget

    def _once(self, target: str, body: bytes, headers: dict[str, str], left: float, err) -> Reply:
        """One attempt; raises MeshError for anything but a 2xx JSON reply."""
        conn, reused = self._pool.take(left + _GRACE)
        try:
            try:
                conn.request("POST", target, body, headers)
                resp = conn.getresponse()
            except (ConnectionError, http.client.RemoteDisconnected):
                if not reused:
                    raise
                # The server closed the idle connection: nothing was
                # processed; once more on a new one.
                conn.close()
                conn = self.endpoint.connect(left + _GRACE)
                conn.request("POST", target, body, headers)
                resp = conn.getresponse()
            raw = resp.read(MAX_REPLY + 1)
        except TimeoutError:
            conn.close()
            raise err(504, f"no answer from the {self.mode} at {self.endpoint.url} within {left:.3g} s") from None
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise err(503, f"cannot reach the {self.mode} at {self.endpoint.url}: {_reason(e)}") from None
        if len(raw) > MAX_REPLY or resp.will_close:
            conn.close()
        else:
            self._pool.give(conn)
        trace_id = resp.getheader("Svc-Trace-Id", "") or ""
        request_id = resp.getheader("Svc-Request-Id", "") or headers["Idempotency-Key"]
        if len(raw) > MAX_REPLY:
            raise _with(err(500, f"reply is larger than {MAX_REPLY} bytes"), trace_id, request_id)
        if 200 <= resp.status < 300:
            try:
                return Reply(json.loads(raw), trace_id, request_id, resp.status)
            except ValueError:
                raise _with(err(500, f"reply is not JSON: {_snippet(raw)}"), trace_id, request_id) from None
        message, body_trace = _error_body(raw, resp.reason)
        raise _with(err(resp.status, message), body_trace or trace_id, request_id)


def _with(e: MeshError, trace_id: str, request_id: str) -> MeshError:
    e.trace_id, e.request_id = trace_id, request_id
    return e


def _error_body(raw: bytes, reason: str) -> tuple[str, str]:
    """The message and trace id of an error answer, whatever its shape."""
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        e = doc.get("error")
        if isinstance(e, dict) and isinstance(e.get("message"), str):
            tid = e.get("trace_id")
            return e["message"], tid if isinstance(tid, str) else ""
        if isinstance(doc.get("message"), str):
            return doc["message"], ""
    return (_snippet(raw) if raw.strip() else reason or "no message"), ""


def _snippet(raw: bytes, n: int = 200) -> str:
    s = raw.decode("utf-8", "replace").strip()
    return repr(s[:n] + ("..." if len(s) > n else ""))


def _reason(e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return "connection refused (is it running?)"
    if isinstance(e, FileNotFoundError):
        return "no such socket (is it running?)"
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def _idempotency_key(service: str, path: str, key: Key) -> str:
    if key is None:
        return context.derived_key(service, path) or str(uuid.uuid4())
    try:
        u = key if isinstance(key, uuid.UUID) else uuid.UUID(key)
        if not isinstance(key, uuid.UUID) and len(key) != 36:
            raise ValueError
    except (ValueError, TypeError, AttributeError):
        raise MeshError(400, f"idempotency_key {str(key)[:80]!r} is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                        service=service, path=path) from None
    return str(u)
