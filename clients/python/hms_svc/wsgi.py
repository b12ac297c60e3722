"""WSGI middleware: the incoming mesh call's context for the handler.

    app = hms_svc.wsgi_middleware(app)

While the app handles a request (and while its reply body is produced), the
request's traceparent, tracestate, Svc-Timeout-Ms, Svc-Request-Id,
Svc-Caller and Svc-Attempt are the current call: ``call()`` continues its
trace and sends the time left of its deadline, ``current_call()`` returns
it. A MeshError escaping the app before the reply started is answered as
``{"error": {"code", "message"}}`` with its code, which the sidecar passes
on to the caller.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable, Iterable, Iterator

from . import context
from .errors import MeshError
from .replies import error_reply

__all__ = ["wsgi_middleware"]


def wsgi_middleware(app: Callable) -> Callable:
    """Wrap a WSGI app so that the calls it makes join the incoming call."""

    def middleware(environ: dict, start_response: Callable) -> Iterable[bytes]:
        # Each request runs in a context of its own, kept for its body.
        ctx = contextvars.copy_context()
        return ctx.run(_serve, app, environ, start_response, ctx)

    return middleware


def _serve(app: Callable, environ: dict, start_response: Callable, ctx: contextvars.Context) -> Iterable[bytes]:
    context.enter(lambda name: environ.get("HTTP_" + name.upper().replace("-", "_")))
    try:
        result = app(environ, start_response)
    except MeshError as e:
        status, headers, body = error_reply(e)
        start_response(status, headers, sys.exc_info())
        return [body]
    if isinstance(result, (list, tuple)):
        return result
    return _InContext(result, ctx)


class _InContext:
    """A reply body produced lazily, still within the incoming call."""

    def __init__(self, result: Iterable[bytes], ctx: contextvars.Context) -> None:
        self._result = result
        self._ctx = ctx

    def __iter__(self) -> Iterator[bytes]:
        it = self._ctx.run(iter, self._result)
        while True:
            try:
                chunk = self._ctx.run(next, it)
            except StopIteration:
                return
            yield chunk

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            self._ctx.run(close)
