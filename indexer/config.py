"""Settings of the indexer (the ``[index]`` table of config.toml)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IndexSettings(BaseModel):
    """How the repository is discovered, parsed and counted."""

    max_file_bytes: int = 1_000_000
    """Files larger than this are skipped (generated data, dumps)."""

    secret_patterns: list[str] = Field(default_factory=list)
    """Extra gitignore-style patterns that must never be indexed or packed."""

    exclude_patterns: list[str] = Field(default_factory=list)
    """Extra gitignore-style patterns to leave out of the index."""

    encoding: str = "o200k_base"
    """Tokenizer used to count tokens (``o200k_base`` or ``cl100k_base``)."""

    workers: int = 0
    """Parser processes for a cold index; 0 means one per CPU core."""

    lock_timeout_s: float = 5.0
    """How long to wait for another process that is writing the index cache."""
