"""Settings of the HTTP API server (``engram serve``)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import BaseModel, Field

DEFAULT_PORT = 8765


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/engram/server`` (``~/.local/state/engram/server`` by default)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "engram" / "server"


class ServerSettings(BaseModel):
    """Where the server listens, which repositories it may open, and its limits."""

    host: str = "127.0.0.1"
    """Address to bind; anything but a loopback address needs ``allow_remote``."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    """TCP port (0: any free port)."""

    allow_remote: bool = False
    """Bind a non-loopback address (requires a token, which is always on)."""

    roots: list[Path] = Field(default_factory=list)
    """Folders under which sessions may open repositories (empty: the current folder)."""

    state_dir: Path = Field(default_factory=default_state_dir)
    """Where the session table and event log live (``server.sqlite``)."""

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest request body accepted (larger ones get 413)."""

    max_file_bytes: int = Field(default=2_000_000, ge=1024)
    """Largest file ``GET /v1/sessions/{id}/files`` returns."""

    cors_origins: list[str] = Field(default_factory=list)
    """Browser origins allowed to call the API (none by default)."""

    default_policy: str | None = None
    """Approval policy of new sessions (None: the project's ``approval_policy``)."""

    def allowed_roots(self) -> list[Path]:
        """The roots, resolved (the current folder when none are set)."""
        roots = self.roots or [Path.cwd()]
        return [Path(r).expanduser().resolve() for r in roots]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
