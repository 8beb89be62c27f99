"""Translate what provider SDKs raise into Engram's typed errors.

Works on the OpenAI and Anthropic SDK exceptions and on LangChain's own ``ModelError``
classes by their shared shape (``status_code``, ``response``, ``body``, class names), so the
optional Anthropic SDK never has to be imported here.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from runtime.llm.catalogue import close_names
from runtime.llm.errors import (
    AuthenticationError,
    ContextOverflowError,
    LLMError,
    MalformedResponseError,
    ProviderError,
    RateLimitError,
    RequestTimeoutError,
    ServerUnreachableError,
    UnknownModelError,
)
from runtime.llm.resolve import ResolvedModel

_OVERFLOW_MARKERS = (
    "context_length_exceeded", "maximum context length", "context window", "context length",
    "prompt is too long", "exceed_context_size", "exceeds the available context",
    "too many tokens", "input tokens exceed",
)
# (pattern, group of the prompt size, group of the window)
_OVERFLOW_PATTERNS: tuple[tuple[re.Pattern[str], int, int], ...] = (
    # OpenAI, DeepSeek, vLLM, SGLang: "maximum context length is 131072 tokens. However, you
    # requested 140000 tokens"
    (re.compile(r"maximum context length is (\d+) tokens.*?(?:requested|resulted in|have|got)"
                r" (\d+) tokens", re.S | re.I), 2, 1),
    # Anthropic: "prompt is too long: 208000 tokens > 200000 maximum"
    (re.compile(r"prompt is too long: (\d+) tokens > (\d+)", re.I), 1, 2),
    # llama.cpp: "... (n_prompt_tokens=5000, n_ctx=4096)" or the same as JSON fields
    (re.compile(r"n_prompt_tokens\D{1,4}(\d+).*?n_ctx\D{1,4}(\d+)", re.S), 1, 2),
)


def translate_error(exc: BaseException, target: ResolvedModel) -> LLMError | None:
    """Engram's error for ``exc``, or ``None`` when ``exc`` is not a provider failure."""
    if isinstance(exc, LLMError):
        return exc
    url = target.display_url
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, json.JSONDecodeError) or "APIResponseValidationError" in names:
        return MalformedResponseError(url, f"{type(exc).__name__}: {exc}")
    if names & {"APITimeoutError", "ModelTimeoutError", "TimeoutException"}:
        return RequestTimeoutError(url, target.timeout)
    if names & {"APIConnectionError", "ModelConnectionError", "ConnectError"}:
        return ServerUnreachableError(url, _connection_detail(exc))
    status = _status_of(exc)
    if status is None:
        return None
    detail = _message_of(exc)
    if status in (401, 403):
        return AuthenticationError(url, status, target.api_key_env if target.key_set else None,
                                   detail)
    if status == 404:
        if "model" in detail.lower():
            others = [n for n in close_names(target.model, target.provider) if n != target.model]
            return UnknownModelError(target.model, target.provider, others,
                                     hint=f" ({url}: {detail[:120]})")
        return ProviderError(url, status, f"{detail} (is model.base_url right?)")
    if status == 413 or "ContextOverflowError" in names or (
            status == 400 and any(m in detail.lower() for m in _OVERFLOW_MARKERS)):
        prompt, window = parse_overflow_counts(detail + " " + _body_text(exc))
        return ContextOverflowError(target.model, prompt, window or target.context_window, detail)
    if status == 429:
        retry_after = retry_after_seconds(_headers_of(exc))
        return RateLimitError(url, target.max_retries, retry_after, detail)
    return ProviderError(url, status, detail)


def parse_overflow_counts(text: str) -> tuple[int | None, int | None]:
    """``(prompt tokens, context window)`` read from a server's overflow message."""
    flat = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    for pattern, prompt_group, window_group in _OVERFLOW_PATTERNS:
        match = pattern.search(flat)
        if match:
            return int(match.group(prompt_group)), int(match.group(window_group))
    return None, None


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / scale, 0.0)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(float(email.utils.mktime_tz(parsed)) - time.time(), 0.0)
    return None


class ErrorTranslation:
    """Mixin for a LangChain chat model: provider exceptions leave it as Engram's errors.

    Put it first in the bases; the class must set ``self._engram_target`` (a private attr).
    """

    _engram_target: ResolvedModel | None

    def _translated(self, exc: Exception) -> Exception:
        target = self._engram_target
        mapped = translate_error(exc, target) if target is not None else None
        return mapped if mapped is not None else exc

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super()._generate(*args, **kwargs)  # type: ignore[misc]
        except Exception as exc:
            mapped = self._translated(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._agenerate(*args, **kwargs)  # type: ignore[misc]
        except Exception as exc:
            mapped = self._translated(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from super()._stream(*args, **kwargs)  # type: ignore[misc]
        except Exception as exc:
            mapped = self._translated(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        try:
            async for chunk in super()._astream(*args, **kwargs):  # type: ignore[misc]
                yield chunk
        except Exception as exc:
            mapped = self._translated(exc)
            if mapped is exc:
                raise
            raise mapped from exc


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _headers_of(exc: BaseException) -> Any:
    return getattr(getattr(exc, "response", None), "headers", None)


def _message_of(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) and message else str(exc)
    # SDKs prefix "Error code: 400 - {...}"; the user wants the server's words.
    return re.sub(r"^Error code: \d+ - ", "", text)


def _body_text(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    try:
        return json.dumps(body) if body is not None else ""
    except (TypeError, ValueError):
        return str(body)


def _connection_detail(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause) if cause is not None else ""
    if "refused" in text.lower() or "errno 111" in text.lower():
        return "connection refused"
    return text if text and text != str(exc) else ""
