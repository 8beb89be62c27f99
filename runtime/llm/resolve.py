"""From settings to one concrete model: provider, address, key variable, window and prices."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from runtime.llm.catalogue import ModelInfo, close_names, find_model
from runtime.llm.errors import UnknownModelError
from runtime.llm.providers import PROVIDERS, Protocol, get_provider
from runtime.llm.settings import ModelSettings

ASSUMED_CONTEXT_WINDOW = 32_768
"""Context window assumed for an uncatalogued model on a self-hosted server or a local file."""

REPLAY_CONTEXT_WINDOW = 128_000

ContextSource = Literal["settings", "catalogue", "assumed"]


@dataclass(frozen=True)
class ModelPrices:
    """USD per 1M tokens."""

    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = None
    """``None``: cached input bills like any input."""

    def cost(self, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
        """USD for one call; ``input_tokens`` includes the cached ones."""
        cached = min(max(cached_tokens, 0), input_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return ((input_tokens - cached) * self.input + cached * cached_rate
                + output_tokens * self.output) / 1_000_000


@dataclass(frozen=True)
class ResolvedModel:
    """Everything needed to build and describe one chat model (never the key itself)."""

    provider: str
    protocol: Protocol
    model: str
    base_url: str | None
    api_key_env: str | None
    key_required: bool
    key_set: bool
    context_window: int
    context_window_source: ContextSource
    max_output_tokens: int | None
    """The configured cap on each answer (``None``: the server's default)."""
    catalogue_max_output_tokens: int | None
    prices: ModelPrices
    timeout: float
    max_retries: int
    temperature: float | None
    record_path: str | None = None
    reason: str = "as configured"
    """Why this model was chosen; says so when Engram fell back to the local model."""
    fallback_from: str | None = None
    """The configured model's ``provider:model`` when this is the local fallback."""

    @property
    def ref(self) -> str:
        """``provider:model``, the form ``--model`` accepts."""
        return f"{self.provider}:{self.model}"

    @property
    def key_missing(self) -> bool:
        """A key is needed and its variable is empty."""
        return self.key_required and not self.key_set

    @property
    def display_url(self) -> str:
        """Where requests go, for messages."""
        return self.base_url or f"{self.provider} ({self.protocol})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (used by ``engram models --json``)."""
        data = asdict(self)
        data["ref"] = self.ref
        data["key_missing"] = self.key_missing
        return data


def parse_model_ref(ref: str, base: ModelSettings | None = None) -> ModelSettings:
    """Settings for ``--model REF``: ``provider:model``, ``replay:FILE``, a catalogued name
    (``gpt-4.1``), or a local ``.gguf`` file / model folder. Other fields come from ``base``.

    A bare unknown name keeps ``base``'s provider (so ``--model my-model`` works against a
    configured vLLM server). Raises ``ValueError`` for an empty reference.
    """
    base = base or ModelSettings()
    text = ref.strip()
    if not text:
        raise ValueError("empty model reference; use provider:model, e.g. deepseek:deepseek-chat")
    prefix, sep, rest = text.partition(":")
    if sep and prefix.lower() in PROVIDERS and rest:
        provider, model = prefix.lower(), rest
    elif (info := find_model(text)) is not None:
        provider, model = info.provider, text
    elif text.endswith(".gguf") or Path(text).expanduser().is_dir():
        provider, model = "local", text
    else:
        provider, model = base.provider, text
    update: dict[str, Any] = {"provider": provider, "model": model}
    if provider != base.provider:
        # An address or key variable configured for one provider means nothing to another.
        update.update(base_url=None, api_key_env=None)
    if model != base.model or provider != base.provider:
        # Limits and prices configured for the old model do not describe the new one.
        update.update(context_window=None, input_price=None, output_price=None,
                      cached_input_price=None)
    return base.model_copy(update=update)


def resolve_model(settings: ModelSettings, env: Mapping[str, str] | None = None) -> ResolvedModel:
    """Resolve ``settings`` against the provider table and the catalogue.

    Raises ``UnknownModelError`` for a hosted provider's model that is neither catalogued nor
    given a ``context_window`` (Engram must know the window to plan its context).
    """
    env = os.environ if env is None else env
    provider = get_provider(settings.provider)
    custom_url = settings.base_url is not None and settings.base_url.rstrip("/") != (
        provider.default_base_url or "").rstrip("/")
    info = find_model(settings.model, provider.name)
    # Self-hosted servers and custom gateways serve whatever models they were started with.
    hosted_catalogue = provider.key_required and not custom_url
    if info is None and hosted_catalogue and settings.context_window is None:
        raise UnknownModelError(
            settings.model, provider.name, close_names(settings.model, provider.name),
            hint=" (set model.context_window to use a model the catalogue does not list)")
    window, source = _context_window(settings, provider.protocol, info)
    key_env = settings.api_key_env or provider.key_env
    key_set = bool(key_env and env.get(key_env, "").strip())
    # A configured key variable is a promise that the server wants a key.
    key_required = settings.api_key_env is not None or (provider.key_required and not custom_url)
    base_url = settings.base_url or provider.default_base_url
    return ResolvedModel(
        provider=provider.name, protocol=provider.protocol, model=settings.model,
        base_url=base_url.rstrip("/") if base_url else None,
        api_key_env=key_env, key_required=key_required, key_set=key_set,
        context_window=window, context_window_source=source,
        max_output_tokens=settings.max_output_tokens,
        catalogue_max_output_tokens=info.max_output_tokens if info else None,
        prices=_prices(settings, info), timeout=settings.timeout,
        max_retries=settings.max_retries, temperature=settings.temperature,
        record_path=settings.record_path,
    )


def choose_default(settings: ModelSettings, env: Mapping[str, str] | None = None) -> ResolvedModel:
    """The model to use for the configured settings: the configured one, or the local default
    (``settings.local_model``) when a hosted provider's key is not set. ``reason`` says which."""
    env = os.environ if env is None else env
    configured = resolve_model(settings, env)
    if not configured.key_missing or not settings.fallback_to_local:
        return configured
    local = resolve_model(
        settings.model_copy(update={
            "provider": "local", "model": settings.local_model, "base_url": None,
            "api_key_env": None, "context_window": None, "input_price": None,
            "output_price": None, "cached_input_price": None,
        }),
        env,
    )
    reason = (f"{configured.api_key_env} is not set, so Engram uses the local model "
              f"{settings.local_model}; set {configured.api_key_env} to use {configured.ref}")
    return replace(local, reason=reason, fallback_from=configured.ref)


def _context_window(settings: ModelSettings, protocol: Protocol,
                    info: ModelInfo | None) -> tuple[int, ContextSource]:
    if settings.context_window is not None:
        return settings.context_window, "settings"
    if info is not None:
        return info.context_window, "catalogue"
    if protocol == "replay":
        return REPLAY_CONTEXT_WINDOW, "assumed"
    return ASSUMED_CONTEXT_WINDOW, "assumed"


def _prices(settings: ModelSettings, info: ModelInfo | None) -> ModelPrices:
    def pick(configured: float | None, listed: float | None, default: float | None) -> Any:
        if configured is not None:
            return configured
        return listed if listed is not None else default

    return ModelPrices(
        input=pick(settings.input_price, info.input_price if info else None, 0.0),
        output=pick(settings.output_price, info.output_price if info else None, 0.0),
        cached_input=pick(settings.cached_input_price,
                          info.cached_input_price if info else None, None),
    )
