"""The one exception type of hms_svc, and its configuration subclass."""

from __future__ import annotations

__all__ = ["MeshError", "ConfigError"]


class MeshError(Exception):
    """A call that did not return a reply.

    Raised for every non-2xx answer of the bridge or sidecar (``code`` is
    then the HTTP status, which the mesh keeps equal to its error code), for
    a reply that is not JSON (500), for transport failures (503 when the
    bridge or sidecar cannot be reached, 504 when the call's time ran out)
    and for a call refused before anything was sent (400 for a bad service
    name or path, 504 for a deadline that had already passed).

    Attributes:
        code: the numeric, HTTP-like error code (400, 401, 403, 404, 405,
            409, 413, 415, 429, 500, 503, 504).
        message: what went wrong, as the mesh or the booth said it.
        trace_id: the trace of the call (32 hex), when known, else "".
        request_id: the call's request id (its Idempotency-Key), when known,
            else "".
        service, path: the call that failed, when known, else "".
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        trace_id: str = "",
        request_id: str = "",
        service: str = "",
        path: str = "",
    ) -> None:
        super().__init__(code, message)
        self.code = int(code)
        self.message = message
        self.trace_id = trace_id
        self.request_id = request_id
        self.service = service
        self.path = path

    def __str__(self) -> str:
        where = f"{self.service} {self.path}: " if self.service else ""
        s = f"{where}{self.code} {self.message}"
        if self.trace_id:
            s += f" (trace {self.trace_id})"
        return s

    def __repr__(self) -> str:
        return (
            f"MeshError(code={self.code!r}, message={self.message!r}, trace_id={self.trace_id!r}, "
            f"request_id={self.request_id!r}, service={self.service!r}, path={self.path!r})"
        )


class ConfigError(MeshError):
    """hms_svc is not configured, or configured wrongly.

    Raised before anything is sent, with code 500 and a message naming the
    environment variable, argument or file that is missing or bad. It is a
    MeshError, so one ``except MeshError`` handles every failed call.
    """

    def __init__(self, message: str) -> None:
        super().__init__(500, message)
