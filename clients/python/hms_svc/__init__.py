"""hms_svc: call the booths of the HMS-SVC mesh from Python.

    from hms_svc import call
    fee = call("fee-calc", "/calculate", {"license_type": "architect"})["amount"]

Calls go through the bridge (the gateway, over mTLS) or through the local
sidecar of ``booth-runner --sidecar`` (an app in the mesh), as the
environment says (see hms_svc.config) or as a Client given to
set_default_client says. Every failure is a MeshError with the mesh's code.
The WSGI and ASGI middleware make calls made while handling a mesh call
continue its trace and respect its deadline. Standard library only.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from .client import DEFAULT_TIMEOUT, MAX_TIMEOUT, Client, Key, Reply
from .config import client_from_env, default_client, set_default_client
from .context import CallInfo, current_call
from .errors import ConfigError, MeshError
from .tracing import Trace, TracedCall, current_trace, trace
from .asgi import asgi_middleware
from .wsgi import wsgi_middleware

__all__ = [
    "call", "acall", "Client", "Reply", "MeshError", "ConfigError",
    "default_client", "set_default_client", "client_from_env",
    "trace", "current_trace", "Trace", "TracedCall",
    "current_call", "CallInfo", "wsgi_middleware", "asgi_middleware",
    "DEFAULT_TIMEOUT", "MAX_TIMEOUT",
]


def call(service: str, path: str, data: Any = None, *,
         idempotency_key: Key = None, timeout: float | None = None) -> Any:
    """Call ``path`` on ``service`` with ``data`` and return the booth's reply.

    Uses default_client(). ``idempotency_key`` (a UUID) makes a repeated call
    with the same key answered once by an exactly-once booth; ``timeout`` is
    the call's budget in seconds (default 5, at most 30, and never past the
    deadline of the call being handled). Raises MeshError.
    """
    return default_client().call(service, path, data, idempotency_key=idempotency_key, timeout=timeout)


async def acall(*args: Any, **kwargs: Any) -> Any:
    """call() for coroutines, with its arguments: runs it in a thread, in the
    current context (so within an ASGI request it joins the incoming call)."""
    return await asyncio.to_thread(call, *args, **kwargs)


acall.__signature__ = inspect.signature(call)  # type: ignore[attr-defined]
