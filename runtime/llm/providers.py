"""The providers Engram can talk to: wire protocol, default address and key variable."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Protocol = Literal["openai", "anthropic", "local", "replay"]


@dataclass(frozen=True)
class ProviderInfo:
    """How to reach one kind of model server."""

    name: str
    protocol: Protocol
    """``openai``: any OpenAI-compatible chat-completions server; ``local``: in-process engine."""
    default_base_url: str | None
    key_env: str | None
    """The environment variable that holds the key unless ``model.api_key_env`` says otherwise."""
    key_required: bool
    """A hosted service that rejects requests without a key (at its default address)."""
    description: str


PROVIDERS: Mapping[str, ProviderInfo] = MappingProxyType({
    p.name: p
    for p in (
        ProviderInfo("deepseek", "openai", "https://api.deepseek.com", "DEEPSEEK_API_KEY", True,
                     "DeepSeek's hosted API (the default)"),
        ProviderInfo("openai", "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True,
                     "OpenAI, or any OpenAI-compatible server given a base_url"),
        ProviderInfo("anthropic", "anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY",
                     True, "Anthropic's Claude (needs the optional extra engram-code[anthropic])"),
        ProviderInfo("qwen", "openai", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
                     "DASHSCOPE_API_KEY", True, "Qwen on Alibaba Cloud Model Studio (DashScope)"),
        ProviderInfo("vllm", "openai", "http://127.0.0.1:8000/v1", None, False,
                     "a vLLM server (OpenAI-compatible)"),
        ProviderInfo("sglang", "openai", "http://127.0.0.1:30000/v1", None, False,
                     "an SGLang server (OpenAI-compatible)"),
        ProviderInfo("ollama", "openai", "http://127.0.0.1:11434/v1", None, False,
                     "an Ollama server (OpenAI-compatible endpoint)"),
        ProviderInfo("llamacpp", "openai", "http://127.0.0.1:8080/v1", None, False,
                     "a llama.cpp llama-server (OpenAI-compatible)"),
        ProviderInfo("engram", "openai", "http://127.0.0.1:8000/v1", None, False,
                     "Engram's own engine served by `engram model serve`"),
        ProviderInfo("local", "local", None, None, False,
                     "Engram's engine in this process (a GGUF file, HF folder or pulled model)"),
        ProviderInfo("replay", "replay", None, None, False,
                     "replays a recorded JSONL script of responses (tests, demos, bug reports)"),
    )
})

DEFAULT_LOCAL_MODEL = "smollm2"


def unknown_provider_message(name: str) -> str:
    """One line naming the closest known providers."""
    close = difflib.get_close_matches(name, list(PROVIDERS), n=2, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return f"unknown provider '{name}'; {hint}known: {', '.join(PROVIDERS)}"


def get_provider(name: str) -> ProviderInfo:
    """The provider called ``name``; ``KeyError`` with a helpful message otherwise."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise KeyError(unknown_provider_message(name)) from None
