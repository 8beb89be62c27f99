"""One factory from settings to a LangChain chat model (the type langgraph speaks)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from langchain_core.language_models import BaseChatModel

from runtime.llm.errors import BackendUnavailableError, MissingKeyError
from runtime.llm.local import LocalModelFactory, build_local_chat
from runtime.llm.recorder import record_to
from runtime.llm.replay import ReplayChatModel
from runtime.llm.resolve import ResolvedModel, resolve_model
from runtime.llm.settings import ModelSettings

ANTHROPIC_EXTRA_HINT = "pip install 'engram-code[anthropic]' (adds langchain-anthropic)"


def make_chat_model(
    target: ModelSettings | ResolvedModel,
    *,
    local_model_factory: LocalModelFactory | None = None,
    env: Mapping[str, str] | None = None,
) -> BaseChatModel:
    """Build the chat model for ``target``.

    - OpenAI-compatible providers (DeepSeek, OpenAI, Qwen, vLLM, SGLang, Ollama, llama.cpp,
      ``engram model serve``): ``ChatOpenAI``.
    - ``anthropic``: ``ChatAnthropic`` (optional extra).
    - ``local``: the in-process engine, via ``local_model_factory`` or
      ``runtime.engine.chat_model.EngineChatModel.from_model_ref``.
    - ``replay``: ``ReplayChatModel`` over the script file named by ``model``.

    Hosted models raise ``MissingKeyError`` when their key variable is empty (use
    ``choose_default`` first to fall back to the local model instead). With
    ``record_path`` set, the model is wrapped so every answer is written to that script.
    """
    env = os.environ if env is None else env
    resolved = target if isinstance(target, ResolvedModel) else resolve_model(target, env)
    chat = _build(resolved, local_model_factory, env)
    if resolved.record_path:
        return record_to(chat, resolved.record_path)
    return chat


def _build(resolved: ResolvedModel, local_model_factory: LocalModelFactory | None,
           env: Mapping[str, str]) -> BaseChatModel:
    if resolved.protocol == "replay":
        return ReplayChatModel.from_file(resolved.model)
    if resolved.protocol == "local":
        return build_local_chat(resolved, local_model_factory)
    api_key = env.get(resolved.api_key_env, "").strip() if resolved.api_key_env else ""
    if resolved.key_required and not api_key:
        raise MissingKeyError(resolved.api_key_env or "an API key variable", resolved.provider,
                              resolved.model)
    if resolved.protocol == "anthropic":
        try:
            from runtime.llm.anthropic_backend import build_anthropic_chat
        except ImportError as exc:
            raise BackendUnavailableError(
                f"Anthropic models need the optional extra: {ANTHROPIC_EXTRA_HINT} "
                f"({exc})") from exc
        return build_anthropic_chat(resolved, api_key)
    from runtime.llm.openai_backend import build_openai_chat

    return build_openai_chat(resolved, api_key or None)
