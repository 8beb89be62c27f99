"""Settings of the model backend (the ``[model]`` table of config.toml)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from runtime.llm.providers import DEFAULT_LOCAL_MODEL, PROVIDERS, unknown_provider_message


class ModelSettings(BaseModel):
    """Which model answers, where it lives and which variable holds its key."""

    provider: str = "deepseek"
    """``deepseek``, ``openai`` (any OpenAI-compatible server), ``anthropic``, ``qwen``,
    ``vllm``, ``sglang``, ``ollama``, ``llamacpp``, ``engram`` (our engine's server),
    ``local`` (the engine in this process) or ``replay`` (a recorded script)."""

    model: str = "deepseek-chat"
    """The model name the provider knows; for ``local`` a GGUF path, a Hugging Face folder or
    a pulled model name; for ``replay`` the path of the JSONL script."""

    base_url: str | None = None
    """Server address; ``None`` means the provider's default."""

    api_key_env: str | None = None
    """Name of the environment variable that holds the key (the provider's usual one, such as
    ``DEEPSEEK_API_KEY``, by default). Engram never stores keys in config files."""

    context_window: int | None = Field(default=None, gt=0)
    """Overrides the catalogue's context window for this model (tokens)."""

    max_output_tokens: int | None = Field(default=None, gt=0)
    """Caps each answer (tokens); ``None`` leaves the server's default."""

    input_price: float | None = Field(default=None, ge=0)
    """USD per 1M input tokens; overrides the catalogue."""

    output_price: float | None = Field(default=None, ge=0)
    """USD per 1M output tokens; overrides the catalogue."""

    cached_input_price: float | None = Field(default=None, ge=0)
    """USD per 1M input tokens served from the provider's prompt cache; overrides the catalogue."""

    timeout: float = Field(default=120.0, gt=0)
    """Seconds one request may take before it fails with a timeout error."""

    max_retries: int = Field(default=3, ge=0, le=20)
    """Retries of rate-limited (429), overloaded (5xx) or unreachable requests, with
    exponential backoff that honours the server's ``Retry-After`` (up to two minutes)."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature; ``None`` leaves the model's default."""

    local_model: str = DEFAULT_LOCAL_MODEL
    """The local model used when no key is configured for a hosted provider."""

    fallback_to_local: bool = True
    """Use ``local_model`` instead of failing when the hosted provider's key is not set."""

    record_path: str | None = None
    """Write every model response to this JSONL replay script (for bug reports and demos)."""

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in PROVIDERS:
            raise ValueError(unknown_provider_message(value))
        return name
