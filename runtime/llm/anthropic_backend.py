"""``ChatAnthropic`` with Engram's errors; needs the optional extra ``engram-code[anthropic]``.

The factory imports this module only when an Anthropic model is chosen.
"""

from __future__ import annotations

from typing import Any

from langchain_anthropic import ChatAnthropic
from pydantic import PrivateAttr

from runtime.llm.error_mapping import ErrorTranslation
from runtime.llm.resolve import ResolvedModel


class EngramChatAnthropic(ErrorTranslation, ChatAnthropic):
    """``ChatAnthropic`` whose failures are Engram's typed errors."""

    _engram_target: ResolvedModel | None = PrivateAttr(default=None)


def build_anthropic_chat(resolved: ResolvedModel, api_key: str) -> EngramChatAnthropic:
    """A chat model for ``resolved`` (protocol ``anthropic``)."""
    options: dict[str, Any] = {
        "model": resolved.model,
        "base_url": resolved.base_url,
        "api_key": api_key,
        "timeout": resolved.timeout,
        # The Anthropic SDK retries 408/409/429/5xx honouring Retry-After, like OpenAI's.
        "max_retries": resolved.max_retries,
        "stream_usage": True,
    }
    if resolved.temperature is not None:
        options["temperature"] = resolved.temperature
    # Left unset, ChatAnthropic picks a per-model default; the model's full output limit
    # would make the SDK refuse non-streaming calls as "may take longer than 10 minutes".
    if resolved.max_output_tokens is not None:
        options["max_tokens"] = resolved.max_output_tokens
    chat = EngramChatAnthropic(**options)
    chat._engram_target = resolved
    return chat
