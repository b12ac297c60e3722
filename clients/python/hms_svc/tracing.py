"""W3C Trace Context for calls: one trace for a group of calls.

Inside ``with hms_svc.trace():`` every call sends the same ``traceparent``,
so the mesh records them as one trace; inside a request handled by the WSGI
or ASGI middleware the trace is the incoming one, without any code.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import secrets
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Trace", "TracedCall", "trace", "current_trace", "parse_traceparent"]

# version-traceid-parentid-flags; version ff is invalid, all-zero ids too.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
# tracestate: at most 512 characters of printable ASCII is all we pass on.
_MAX_TRACESTATE = 512
# How many calls a Trace remembers (a long-lived trace must not grow without end).
MAX_TRACED_CALLS = 1000


def parse_traceparent(value: str) -> str | None:
    """Return value if it is a valid W3C traceparent, else None.

    As the W3C specification says, a malformed traceparent is dropped (and
    the mesh then starts a new trace); a future version is accepted when its
    first four fields parse.
    """
    if not value:
        return None
    value = value.strip()
    m = _TRACEPARENT.fullmatch(value)
    if not m:
        return None
    version, trace_id, span_id, _, rest = m.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return value


def _clean_tracestate(value: str) -> str:
    value = (value or "").strip()
    if len(value) > _MAX_TRACESTATE or not value.isascii() or not value.isprintable():
        return ""
    return value


def new_trace_id(now: float | None = None) -> str:
    """A trace id whose first four bytes are the Unix second, as the mesh
    makes them (the bridge's trace lookup starts reading near the trace's
    start); the other twelve are random."""
    sec = int(time.time() if now is None else now) & 0xFFFFFFFF
    return struct.pack(">I", sec).hex() + secrets.token_hex(12)


def _new_span_id() -> str:
    while True:
        s = secrets.token_hex(8)
        if s != "0" * 16:
            return s


@dataclass(frozen=True)
class TracedCall:
    """One call made within a Trace, as the mesh answered it."""

    service: str
    path: str
    #: the trace the mesh recorded the call in (its Svc-Trace-Id), or "".
    trace_id: str
    request_id: str
    #: 200 for a reply, else the MeshError's code.
    code: int


class Trace:
    """A trace that calls join: its ``traceparent`` is sent with each.

    Attributes:
        trace_id: the 32-hex trace id.
        traceparent: the W3C header sent as the parent of every call.
        tracestate: the W3C tracestate sent with it ("" for none).
    """

    def __init__(self, traceparent: str, tracestate: str = "") -> None:
        tp = parse_traceparent(traceparent)
        if tp is None:
            raise ValueError(f"traceparent {traceparent[:80]!r} is not a valid W3C traceparent")
        self.traceparent = tp
        self.trace_id = tp.split("-")[1]
        self.tracestate = _clean_tracestate(tracestate)
        self._calls: list[TracedCall] = []
        self._lock = threading.Lock()

    @classmethod
    def new(cls) -> "Trace":
        """A new, sampled trace with a random parent span."""
        return cls(f"00-{new_trace_id()}-{_new_span_id()}-01")

    @property
    def calls(self) -> list[TracedCall]:
        """The calls made within this trace so far (the first MAX_TRACED_CALLS)."""
        with self._lock:
            return list(self._calls)

    def record(self, call: TracedCall) -> None:
        with self._lock:
            if len(self._calls) < MAX_TRACED_CALLS:
                self._calls.append(call)

    def __repr__(self) -> str:
        return f"Trace({self.traceparent!r})"


_current: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("hms_svc_trace", default=None)


def current_trace() -> Trace | None:
    """The trace calls made here join, or None (each then starts its own)."""
    return _current.get()


@contextlib.contextmanager
def trace(traceparent: str | None = None, tracestate: str = "") -> Iterator[Trace]:
    """Make the calls within the block one trace.

    Without arguments it continues the current trace (that of the request
    being handled, or of an enclosing ``trace()``) or starts a new one; with
    ``traceparent`` (a W3C header received from elsewhere) it continues that
    one, and a malformed value raises ValueError. Usable as a decorator too.

        with hms_svc.trace() as t:
            call("fee-calc", "/calculate", payload)
            call("payment", "/charge", charge)
        print(t.trace_id)
    """
    if traceparent is None:
        cur = _current.get()
        if cur is not None:
            yield cur
            return
        t = Trace.new()
    else:
        t = Trace(traceparent, tracestate)
    token = _current.set(t)
    try:
        yield t
    finally:
        _current.reset(token)


@contextlib.contextmanager
def _joined(t: Trace | None) -> Iterator[None]:
    """Make t the current trace within the block (the middleware's entry)."""
    token = _current.set(t)
    try:
        yield
    finally:
        _current.reset(token)
