"""ASGI middleware: the incoming mesh call's context for the handler.

    app = hms_svc.asgi_middleware(app)

As the WSGI middleware, for HTTP requests of an ASGI app (other scopes pass
through untouched). ``call()`` blocks: from a coroutine use
``await hms_svc.acall(...)``, which runs it in a thread within the same
context.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .context import serving
from .errors import MeshError
from .replies import error_reply

__all__ = ["asgi_middleware"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_middleware(app: Callable) -> Callable:
    """Wrap an ASGI app so that the calls it makes join the incoming call."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for name, value in scope.get("headers") or ():
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        started = False

        async def watched_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        with serving(lambda name: headers.get(name.lower())):
            try:
                await app(scope, receive, watched_send)
            except MeshError as e:
                if started:
                    raise
                status, hdrs, body = error_reply(e)
                await send({
                    "type": "http.response.start",
                    "status": int(status.split(" ", 1)[0]),
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in hdrs],
                })
                await send({"type": "http.response.body", "body": body})

    return middleware
