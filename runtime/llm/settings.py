"""Settings of the model backend (the ``[model]`` table of config.toml)."""

from __future__ import annotations

from pydantic import BaseModel


class ModelSettings(BaseModel):
    """Which model answers, where it lives and which variable holds its key."""

    provider: str = "deepseek"
    """``deepseek``, ``openai`` (any OpenAI-compatible server), ``anthropic``, ``local``, ``replay``."""

    model: str = "deepseek-chat"
    """The model name the provider knows."""

    base_url: str | None = None
    """Server address; ``None`` means the provider's default."""

    api_key_env: str | None = None
    """Name of the environment variable that holds the key (``DEEPSEEK_API_KEY`` by default)."""

    context_window: int | None = None
    """Overrides the catalogue's context window for this model."""

    max_output_tokens: int | None = None
    """Overrides the catalogue's output limit."""
