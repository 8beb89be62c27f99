"""``ChatOpenAI`` for every OpenAI-compatible server, with Engram's errors.

Imported lazily by the factory: ``langchain_openai`` takes about a second to import.
"""

from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI
from pydantic import PrivateAttr

from runtime.llm.error_mapping import ErrorTranslation
from runtime.llm.errors import MalformedResponseError
from runtime.llm.resolve import ResolvedModel

# Self-hosted servers (vLLM, llama.cpp, Ollama, our engine) ignore the key, but the SDK
# refuses to send a request without one.
PLACEHOLDER_KEY = "not-needed"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


class EngramChatOpenAI(ErrorTranslation, ChatOpenAI):
    """``ChatOpenAI`` whose failures are Engram's typed errors (see ``runtime.llm.errors``)."""

    _engram_target: ResolvedModel | None = PrivateAttr(default=None)

    def _create_chat_result(self, response: Any, generation_info: dict | None = None) -> Any:
        try:
            return super()._create_chat_result(response, generation_info)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            raise MalformedResponseError(self._url(), f"{type(exc).__name__}: {exc}") from exc

    def _convert_chunk_to_generation_chunk(self, chunk: dict, default_chunk_class: type,
                                           base_generation_info: dict | None) -> Any:
        try:
            return super()._convert_chunk_to_generation_chunk(
                chunk, default_chunk_class, base_generation_info)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            raise MalformedResponseError(self._url(), f"bad stream chunk: {exc}") from exc

    def _url(self) -> str:
        target = self._engram_target
        return target.display_url if target is not None else str(self.openai_api_base)


def build_openai_chat(resolved: ResolvedModel, api_key: str | None) -> EngramChatOpenAI:
    """A chat model for ``resolved`` (protocol ``openai``)."""
    official = resolved.provider == "openai" and resolved.base_url == OPENAI_DEFAULT_URL
    options: dict[str, Any] = {
        "model": resolved.model,
        "base_url": resolved.base_url,
        "api_key": api_key or PLACEHOLDER_KEY,
        "timeout": resolved.timeout,
        # The SDK retries 408/409/429/5xx and lost connections with exponential backoff and
        # honours Retry-After / retry-after-ms up to two minutes.
        "max_retries": resolved.max_retries,
        "stream_usage": True,
        # Only OpenAI itself speaks the Responses API; everything else is chat completions.
        "use_responses_api": None if official else False,
    }
    if resolved.temperature is not None:
        options["temperature"] = resolved.temperature
    if resolved.max_output_tokens is not None:
        options["max_completion_tokens"] = resolved.max_output_tokens
    chat = EngramChatOpenAI(**options)
    chat._engram_target = resolved
    return chat
