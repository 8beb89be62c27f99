"""The in-process engine as a chat model, loaded only when the ``local`` provider is chosen.

``runtime.llm`` must keep working when the engine is absent or broken (no torch, a bad
build), so the engine is imported inside the function and its import failures become one
clear ``BackendUnavailableError``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel

from runtime.llm.errors import BackendUnavailableError, one_line
from runtime.llm.resolve import ResolvedModel

LocalModelFactory = Callable[..., BaseChatModel]
"""Called as ``factory(ref, **options)``; ``ref`` is a GGUF path, a Hugging Face folder or a
pulled model name; options are ``temperature`` and ``max_tokens`` when configured."""

ENGINE_MODULE = "runtime.engine.chat_model"


def engine_factory() -> LocalModelFactory:
    """``EngineChatModel.from_model_ref`` from the engine package."""
    try:
        module = importlib.import_module(ENGINE_MODULE)
        return module.EngineChatModel.from_model_ref
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the local engine cannot be loaded ({one_line(exc, 120)}); use a hosted model "
            f"(set its API key) or a model server with --model provider:name") from exc
    except AttributeError as exc:
        raise BackendUnavailableError(
            f"the local engine in {ENGINE_MODULE} has no EngineChatModel.from_model_ref "
            f"({one_line(exc, 120)})") from exc


def build_local_chat(resolved: ResolvedModel,
                     factory: LocalModelFactory | None = None) -> BaseChatModel:
    """The engine's chat model for ``resolved.model``."""
    make = factory or engine_factory()
    options: dict[str, Any] = {}
    if resolved.temperature is not None:
        options["temperature"] = resolved.temperature
    if resolved.max_output_tokens is not None:
        options["max_tokens"] = resolved.max_output_tokens
    return make(resolved.model, **options)
