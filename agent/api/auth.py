"""The bearer token: created on first start, checked in constant time on every request."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import HTTPException, Request, WebSocket, status

from agent.config import user_config_dir

TOKEN_FILE_NAME = "token"
_TOKEN_BYTES = 32


class TokenError(Exception):
    """The token file cannot be created or read; the message says which file and why."""


def token_path() -> Path:
    """``$XDG_CONFIG_HOME/engram/token`` (``~/.config/engram/token``)."""
    return user_config_dir() / TOKEN_FILE_NAME


def load_or_create_token(path: Path | None = None) -> str:
    """The token in ``path``; a new random one (file mode 0600) when there is none."""
    path = path or token_path()
    try:
        if path.is_file():
            token = path.read_text(encoding="utf-8").strip()
            if token:
                if path.stat().st_mode & 0o077:
                    os.chmod(path, 0o600)  # a token others can read is no secret
                return token
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        temp = path.with_name(f".{path.name}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
        os.chmod(temp, 0o600)
        os.replace(temp, path)
        return token
    except OSError as exc:
        raise TokenError(f"cannot use the API token file {path}: {exc.strerror or exc}") from None


def token_matches(expected: str, header: str | None) -> bool:
    """Whether an ``Authorization: Bearer ...`` header carries ``expected`` (constant time)."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def require_token(request: Request) -> None:
    """FastAPI dependency: 401 unless the request carries the server's token."""
    if not token_matches(request.app.state.token, request.headers.get("authorization")):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token",
                            headers={"WWW-Authenticate": "Bearer"})


def websocket_authorized(websocket: WebSocket) -> bool:
    """A WebSocket carries the token in its ``Authorization`` header or the
    ``bearer.<token>`` subprotocol (browsers cannot set headers on WebSockets)."""
    expected: str = websocket.app.state.token
    if token_matches(expected, websocket.headers.get("authorization")):
        return True
    for proto in websocket.scope.get("subprotocols", []):
        if proto.startswith("bearer.") and hmac.compare_digest(proto[7:].encode(), expected.encode()):
            return True
    return False
