"""Model backends: settings to a LangChain chat model, a catalogue, replay, usage and errors.

Exports are loaded on first use: ``agent.config`` imports ``runtime.llm.settings`` on every
``engram`` command and must not pay for LangChain's import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "ModelSettings": "runtime.llm.settings",
    "PROVIDERS": "runtime.llm.providers",
    "ProviderInfo": "runtime.llm.providers",
    "DEFAULT_LOCAL_MODEL": "runtime.llm.providers",
    "CATALOGUE": "runtime.llm.catalogue",
    "ModelInfo": "runtime.llm.catalogue",
    "find_model": "runtime.llm.catalogue",
    "close_names": "runtime.llm.catalogue",
    "ModelPrices": "runtime.llm.resolve",
    "ResolvedModel": "runtime.llm.resolve",
    "parse_model_ref": "runtime.llm.resolve",
    "resolve_model": "runtime.llm.resolve",
    "choose_default": "runtime.llm.resolve",
    "make_chat_model": "runtime.llm.factory",
    "LocalModelFactory": "runtime.llm.local",
    "ReplayChatModel": "runtime.llm.replay",
    "ScriptStep": "runtime.llm.replay_script",
    "load_script": "runtime.llm.replay_script",
    "RecordingChatModel": "runtime.llm.recorder",
    "record_to": "runtime.llm.recorder",
    "UsageTracker": "runtime.llm.usage",
    "CallUsage": "runtime.llm.usage",
    "UsageTotals": "runtime.llm.usage",
    "LLMError": "runtime.llm.errors",
    "MissingKeyError": "runtime.llm.errors",
    "AuthenticationError": "runtime.llm.errors",
    "ServerUnreachableError": "runtime.llm.errors",
    "RequestTimeoutError": "runtime.llm.errors",
    "UnknownModelError": "runtime.llm.errors",
    "ContextOverflowError": "runtime.llm.errors",
    "RateLimitError": "runtime.llm.errors",
    "MalformedResponseError": "runtime.llm.errors",
    "ProviderError": "runtime.llm.errors",
    "BackendUnavailableError": "runtime.llm.errors",
    "ReplayScriptError": "runtime.llm.errors",
    "ReplayExhaustedError": "runtime.llm.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from runtime.llm.catalogue import CATALOGUE, ModelInfo, close_names, find_model
    from runtime.llm.errors import (
        AuthenticationError,
        BackendUnavailableError,
        ContextOverflowError,
        LLMError,
        MalformedResponseError,
        MissingKeyError,
        ProviderError,
        RateLimitError,
        ReplayExhaustedError,
        ReplayScriptError,
        RequestTimeoutError,
        ServerUnreachableError,
        UnknownModelError,
    )
    from runtime.llm.factory import make_chat_model
    from runtime.llm.local import LocalModelFactory
    from runtime.llm.providers import DEFAULT_LOCAL_MODEL, PROVIDERS, ProviderInfo
    from runtime.llm.recorder import RecordingChatModel, record_to
    from runtime.llm.replay import ReplayChatModel
    from runtime.llm.replay_script import ScriptStep, load_script
    from runtime.llm.resolve import (
        ModelPrices,
        ResolvedModel,
        choose_default,
        parse_model_ref,
        resolve_model,
    )
    from runtime.llm.settings import ModelSettings
    from runtime.llm.usage import CallUsage, UsageTotals, UsageTracker
