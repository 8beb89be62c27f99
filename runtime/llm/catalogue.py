"""Known models: context window, output limit and list prices (USD per 1M tokens).

Figures were checked against the providers' public model and pricing pages in November
2026 unless a comment says otherwise; prices change, so ``[model]`` settings can override
every number here. Where a provider bills long prompts at a higher tier, the entry holds the
base tier's price.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    """One catalogued model."""

    provider: str
    name: str
    context_window: int
    max_output_tokens: int
    input_price: float
    """USD per 1M input tokens (cache miss)."""
    output_price: float
    """USD per 1M output tokens (thinking tokens included)."""
    cached_input_price: float | None = None
    """USD per 1M input tokens read from the prompt cache; ``None``: no cache discount."""
    aliases: tuple[str, ...] = ()
    note: str = ""


_M = ModelInfo

CATALOGUE: tuple[ModelInfo, ...] = (
    # DeepSeek (api-docs.deepseek.com, Models & Pricing, 2026): V4 has a 1M context and up to
    # 384K output; deepseek-chat / deepseek-reasoner are the non-thinking / thinking modes
    # of deepseek-v4-flash and keep its limits and prices.
    _M("deepseek", "deepseek-chat", 1_000_000, 384_000, 0.14, 0.28, 0.0028,
       note="DeepSeek-V4-Flash, non-thinking mode"),
    _M("deepseek", "deepseek-reasoner", 1_000_000, 384_000, 0.14, 0.28, 0.0028,
       note="DeepSeek-V4-Flash, thinking mode"),
    _M("deepseek", "deepseek-v4-flash", 1_000_000, 384_000, 0.14, 0.28, 0.0028),
    _M("deepseek", "deepseek-v4-pro", 1_000_000, 384_000, 0.435, 0.87, 0.003625),
    # OpenAI. GPT-4.1 family: 1,047,576-token context, 32,768 output.
    _M("openai", "gpt-4.1", 1_047_576, 32_768, 2.00, 8.00, 0.50),
    _M("openai", "gpt-4.1-mini", 1_047_576, 32_768, 0.40, 1.60, 0.10),
    _M("openai", "gpt-4.1-nano", 1_047_576, 32_768, 0.10, 0.40, 0.025),
    _M("openai", "gpt-5", 400_000, 128_000, 1.25, 10.00, 0.125),
    _M("openai", "gpt-5-mini", 400_000, 128_000, 0.25, 2.00, 0.025),
    _M("openai", "gpt-5-nano", 400_000, 128_000, 0.05, 0.40, 0.005),
    _M("openai", "gpt-5.1", 400_000, 128_000, 1.25, 10.00, 0.125),
    # Assumption: public sources disagree on GPT-5.5's window (256K vs ~1M); 1,050,000 is
    # the figure given with its long-context tier (prompts over 272K bill ~2x, not modelled).
    _M("openai", "gpt-5.5", 1_050_000, 128_000, 5.00, 30.00, 0.50),
    # Anthropic (platform.claude.com model pages, 2026). Cache writes bill 1.25x input
    # (not modelled: usage reports cache reads only).
    _M("anthropic", "claude-opus-5-5", 1_000_000, 128_000, 4.00, 20.00, 0.20),
    _M("anthropic", "claude-opus-5", 1_000_000, 128_000, 5.00, 25.00, 0.50),
    _M("anthropic", "claude-sonnet-5", 1_000_000, 128_000, 2.00, 10.00, 0.20),
    _M("anthropic", "claude-opus-4-5", 200_000, 64_000, 5.00, 25.00, 0.50,
       aliases=("claude-opus-4-5-20251101",)),
    _M("anthropic", "claude-sonnet-4-5", 200_000, 64_000, 3.00, 15.00, 0.30,
       aliases=("claude-sonnet-4-5-20250929",)),
    _M("anthropic", "claude-haiku-4-5", 200_000, 64_000, 1.00, 5.00, 0.10,
       aliases=("claude-haiku-4-5-20251001",)),
    # Qwen on DashScope (international endpoint). Assumption: figures from Alibaba Cloud's
    # Model Studio list as last known (2025), lowest input tier (<= 32K-token prompts);
    # the search done for this catalogue did not find newer ones.
    _M("qwen", "qwen3-max", 262_144, 65_536, 1.20, 6.00),
    _M("qwen", "qwen-plus", 1_000_000, 32_768, 0.40, 1.20),
    _M("qwen", "qwen-flash", 1_000_000, 32_768, 0.05, 0.40),
    _M("qwen", "qwen3-coder-plus", 1_000_000, 65_536, 1.00, 5.00),
    _M("qwen", "qwen3-coder-flash", 1_000_000, 65_536, 0.30, 1.50),
    # Engram's embedded default: SmolLM2-135M-Instruct (8K positions), free to run.
    _M("local", "smollm2", 8_192, 2_048, 0.0, 0.0, 0.0,
       aliases=("smollm2-135m-instruct",), note="SmolLM2-135M-Instruct on Engram's engine"),
)


def find_model(name: str, provider: str | None = None) -> ModelInfo | None:
    """The catalogue entry called ``name`` (or one of its aliases), optionally for one provider."""
    key = name.strip().lower()
    for info in CATALOGUE:
        if provider is not None and info.provider != provider:
            continue
        if key == info.name or key in info.aliases:
            return info
    return None


def models_of(provider: str) -> list[ModelInfo]:
    """Every catalogued model of ``provider``."""
    return [info for info in CATALOGUE if info.provider == provider]


def close_names(name: str, provider: str | None = None, n: int = 3) -> list[str]:
    """Catalogued names that look like ``name`` (for "did you mean" messages)."""
    pool = [info.name for info in CATALOGUE if provider is None or info.provider == provider]
    return difflib.get_close_matches(name.strip().lower(), pool, n=n, cutoff=0.5)
