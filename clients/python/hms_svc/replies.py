"""The error answer a booth app gives for a MeshError, as the sidecar reads it."""

from __future__ import annotations

import json
from http import HTTPStatus

from .errors import MeshError

__all__ = ["error_reply"]


def error_reply(e: MeshError) -> tuple[str, list[tuple[str, str]], bytes]:
    """The status line, headers and ``{"error": {"code", "message"}}`` body
    answering e (a code outside 400-599 is answered as 500)."""
    code = e.code if 400 <= e.code <= 599 else 500
    body = json.dumps({"error": {"code": code, "message": e.message}}).encode("utf-8")
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = "Error"
    return f"{code} {phrase}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
