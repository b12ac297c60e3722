"""Local checks of service names and paths, the same the mesh makes.

A call the mesh would refuse is refused here, with code 400, before
anything is sent (pkg/subjects in the Go code holds the rules).
"""

from __future__ import annotations

import re

from .errors import MeshError

__all__ = ["validate_service", "validate_path"]

MAX_SEGMENTS = 16
_SERVICE = re.compile(r"[a-z][a-z0-9-]{0,62}")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Service names the mesh uses for itself.
RESERVED = frozenset({"trace", "mesh"})


def validate_service(service: str) -> None:
    """Raise MeshError(400) unless service is a valid, unreserved name."""
    if not isinstance(service, str) or not service:
        raise MeshError(400, "service name is empty")
    if not _SERVICE.fullmatch(service):
        raise MeshError(400, f"service name {service[:80]!r} must match ^[a-z][a-z0-9-]{{0,62}}$")
    if service in RESERVED:
        raise MeshError(400, f"service name {service!r} is reserved by the mesh")


def validate_path(path: str) -> str:
    """Return path ("/a/b") if valid, else raise MeshError(400).

    A path starts with "/" and has 1 to 16 segments, each matching
    ^[A-Za-z0-9_-]{1,64}$; nothing is percent-encoded or normalised.
    """
    if not isinstance(path, str) or not path.startswith("/"):
        raise MeshError(400, f"path {str(path)[:80]!r} must start with '/'")
    segs = path[1:].split("/")
    if segs == [""]:
        raise MeshError(400, "path is empty")
    if len(segs) > MAX_SEGMENTS:
        raise MeshError(400, f"path has more than {MAX_SEGMENTS} segments: {len(segs)}")
    for seg in segs:
        if not _SEGMENT.fullmatch(seg):
            raise MeshError(400, f"path segment {seg[:80]!r} must match ^[A-Za-z0-9_-]{{1,64}}$")
    return path
