"""The credentials a Client presents: the sidecar's API token, or the
files of the bridge's mutual TLS."""

from __future__ import annotations

import os

from .errors import ConfigError

__all__ = ["api_token", "bridge_files"]


def api_token(token: str | None, token_file: str | None) -> str:
    """The sidecar's API token, given or read from token_file."""
    if token and token_file:
        raise ConfigError("give the sidecar's API token or a file holding it, not both")
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"API token file {token_file!r}: {getattr(e, 'strerror', None) or e}") from None
        if not token:
            raise ConfigError(f"API token file {token_file!r} is empty")
    if not token:
        raise ConfigError("the sidecar needs its API token (HMS_API_TOKEN or HMS_API_TOKEN_FILE)")
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise ConfigError("the API token must be printable ASCII without spaces")
    return token


def bridge_files(ca: str | None, cert: str | None, key: str | None,
                 mesh_dir: str | None, identity: str | None) -> tuple[str, str, str]:
    """The CA, certificate and key files presented to the bridge: as given,
    or those of identity in the mesh folder (meshctl init's layout)."""
    if ca or cert or key:
        if mesh_dir or identity:
            raise ConfigError("give the bridge credentials as files or as a mesh folder and identity, not both")
        missing = [n for n, v in (("CA file", ca), ("certificate file", cert), ("key file", key)) if not v]
        if missing:
            raise ConfigError("the bridge needs the mesh CA, a client certificate and its key: no " + ", no ".join(missing))
        return ca, cert, key
    if mesh_dir and identity:
        return (os.path.join(mesh_dir, "ca.pem"), os.path.join(mesh_dir, identity + ".pem"),
                os.path.join(mesh_dir, identity + "-key.pem"))
    if mesh_dir:
        raise ConfigError(f"mesh folder {mesh_dir!r} given without the identity whose certificate to present")
    raise ConfigError("the bridge needs the mesh CA, a client certificate and its key "
                      "(ca_file, cert_file, key_file, or mesh_dir and identity)")
