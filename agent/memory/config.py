"""Settings of the Engram memory (the ``[memory]`` table of config.toml)."""

from __future__ import annotations

from pydantic import BaseModel


class MemorySettings(BaseModel):
    """How much the project memory holds and how much of it reaches a prompt."""

    enabled: bool = True
    """Turn the per-project memory off entirely."""

    recall_budget_tokens: int = 1500
    """Tokens of recalled memory added to a prompt."""

    max_entries: int = 100_000
    """Size cap; the least valuable unpinned entries are evicted beyond it."""
