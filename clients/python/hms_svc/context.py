"""The call being handled: who called, its request id and its deadline.

The WSGI and ASGI middleware put the incoming call's headers here for the
time of the request; ``call()`` reads them to send the incoming trace and
the time left of the incoming deadline, and handlers read them with
``current_call()``.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import tracing

__all__ = ["CallInfo", "current_call", "enter", "serving"]

# The largest Svc-Timeout-Ms taken from a caller (the mesh caps calls at 30 s).
_MAX_INBOUND_MS = 30_000


@dataclass(frozen=True)
class CallInfo:
    """The mesh call a handler is answering.

    Attributes:
        caller: the authenticated calling identity (Svc-Caller), or "".
        request_id: the call's request id (Svc-Request-Id), the same on every
            attempt of one logical call, or "".
        deadline: when the caller stops waiting, in ``time.monotonic()``
            seconds, or None when it sent no Svc-Timeout-Ms.
        attempt: which attempt this is (Svc-Attempt), 1 when not sent.
        traceparent, tracestate: the booth's span (W3C), "" when not sent.
    """

    caller: str = ""
    request_id: str = ""
    deadline: float | None = None
    attempt: int = 1
    traceparent: str = ""
    tracestate: str = ""
    _keys: "_KeyDeriver" = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once passed), or None."""
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic()


class _KeyDeriver:
    """Idempotency keys for the calls a handler makes, derived from the
    incoming request id: when the mesh retries the incoming call, the
    handler's n-th call to a service path gets the same key as on the first
    attempt, so an exactly-once booth downstream replays instead of acting
    twice."""

    def __init__(self, request_id: str) -> None:
        self._ns = uuid.UUID(request_id)
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, service: str, path: str) -> str:
        target = f"{service}{path}"
        with self._lock:
            n = self._seen.get(target, 0) + 1
            self._seen[target] = n
        return str(uuid.uuid5(self._ns, f"{target}#{n}"))


_current: contextvars.ContextVar[CallInfo | None] = contextvars.ContextVar("hms_svc_call", default=None)


def current_call() -> CallInfo | None:
    """The mesh call being handled here, or None outside a request."""
    return _current.get()


def derived_key(service: str, path: str) -> str | None:
    """An idempotency key derived from the incoming call, or None."""
    info = _current.get()
    if info is None or info._keys is None:
        return None
    return info._keys.next(service, path)


def _from_headers(get: Callable[[str], str | None], now: float) -> CallInfo:
    ms = (get("Svc-Timeout-Ms") or "").strip()
    deadline = None
    if ms.isdigit() and int(ms) > 0:  # anything else is ignored: no deadline
        deadline = now + min(int(ms), _MAX_INBOUND_MS) / 1000
    attempt = (get("Svc-Attempt") or "").strip()
    request_id = (get("Svc-Request-Id") or "").strip()
    try:
        keys = _KeyDeriver(request_id) if len(request_id) == 36 else None
    except ValueError:
        keys = None
    return CallInfo(
        caller=(get("Svc-Caller") or "").strip(),
        request_id=request_id,
        deadline=deadline,
        attempt=int(attempt) if attempt.isdigit() and int(attempt) > 0 else 1,
        traceparent=tracing.parse_traceparent(get("traceparent") or "") or "",
        tracestate=(get("tracestate") or "").strip(),
        _keys=keys,
    )


def _set(get: Callable[[str], str | None]) -> tuple[CallInfo, contextvars.Token, contextvars.Token]:
    info = _from_headers(get, time.monotonic())
    t = tracing.Trace(info.traceparent, info.tracestate) if info.traceparent else tracing.Trace.new()
    return info, _current.set(info), tracing._current.set(t)


def enter(get: Callable[[str], str | None]) -> CallInfo:
    """Make the call described by the request headers that ``get(name)``
    returns (None for an absent one) the current call, and its trace (or,
    when it sent none, a new one) the current trace, for the rest of the
    current context: for a context made for the request
    (``contextvars.copy_context().run``). The deadline counts from now."""
    return _set(get)[0]


@contextlib.contextmanager
def serving(get: Callable[[str], str | None]) -> Iterator[CallInfo]:
    """As enter, within the block only."""
    info, call_token, trace_token = _set(get)
    try:
        yield info
    finally:
        tracing._current.reset(trace_token)
        _current.reset(call_token)
