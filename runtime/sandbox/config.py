"""Settings of the sandbox (the ``[sandbox]`` table of config.toml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class SandboxSettings(BaseModel):
    """Which isolation backend runs commands, and its default limits."""

    backend: Literal["auto", "bwrap", "docker", "local"] = "auto"
    """``auto`` picks bwrap when it works here; ``local`` (no isolation) only on request."""

    timeout_s: float = 600.0
    """Default wall-clock limit of one command."""

    test_command: str | None = None
    """Overrides the detected test command of the project."""
