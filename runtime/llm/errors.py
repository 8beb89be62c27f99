"""Errors of the model runtime: typed, each with a one-line message a user can act on."""

from __future__ import annotations

import re

_DETAIL_LIMIT = 240


def one_line(text: object, limit: int = _DETAIL_LIMIT) -> str:
    """Collapse whitespace and cut ``text`` to ``limit`` characters."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class LLMError(Exception):
    """Base of every model-runtime error; ``str(err)`` is one line for the user."""

    retryable: bool = False
    """Whether trying the same request later may succeed."""


class MissingKeyError(LLMError):
    """A hosted provider needs a key and its environment variable is not set."""

    def __init__(self, env_var: str, provider: str, model: str) -> None:
        self.env_var, self.provider, self.model = env_var, provider, model
        super().__init__(
            f"no API key for {provider}:{model}: set the environment variable {env_var} "
            f"(or pick another model with --model)"
        )


class AuthenticationError(LLMError):
    """The server refused the key (401) or the key may not use this model (403)."""

    def __init__(self, url: str, status: int, env_var: str | None, detail: str) -> None:
        self.url, self.status, self.env_var = url, status, env_var
        source = f"the key in {env_var}" if env_var else "the request (no key was sent)"
        super().__init__(f"{url} rejected {source} ({status}): {one_line(detail)}")


class ServerUnreachableError(LLMError):
    """No connection to the model server."""

    retryable = True

    def __init__(self, url: str, detail: str = "") -> None:
        self.url = url
        why = f" ({one_line(detail, 120)})" if detail else ""
        super().__init__(f"cannot reach the model server at {url}{why}; is it running and is "
                         f"model.base_url right?")


class RequestTimeoutError(LLMError):
    """The server did not answer within ``model.timeout`` seconds."""

    retryable = True

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        super().__init__(f"no answer from {url} within {timeout:g}s "
                         f"(raise model.timeout in the settings for slow models)")


class UnknownModelError(LLMError):
    """The provider (or the catalogue) does not know this model name."""

    def __init__(self, model: str, provider: str, suggestions: list[str], hint: str = "") -> None:
        self.model, self.provider, self.suggestions = model, provider, suggestions
        close = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown model '{model}' for {provider}{close}{hint}")


class ContextOverflowError(LLMError):
    """The prompt does not fit the model's context window."""

    def __init__(self, model: str, prompt_tokens: int | None, context_window: int | None,
                 detail: str = "") -> None:
        self.model = model
        self.prompt_tokens, self.context_window = prompt_tokens, context_window
        size = f" ({prompt_tokens:,} tokens)" if prompt_tokens else ""
        window = f" of {context_window:,} tokens" if context_window else ""
        extra = "" if (prompt_tokens and context_window) or not detail else f": {one_line(detail)}"
        super().__init__(f"the prompt{size} exceeds the context window{window} of {model}"
                         f"{extra}; shorten the conversation or the packed context")


class RateLimitError(LLMError):
    """The server still answered 429 after the retries (``retries`` is the configured number)."""

    retryable = True

    def __init__(self, url: str, retries: int, retry_after: float | None, detail: str) -> None:
        self.url, self.retries, self.retry_after = url, retries, retry_after
        when = f"try again in {retry_after:g}s" if retry_after else "try again later"
        super().__init__(f"rate limited by {url} ({one_line(detail, 160)}); {when}")


class MalformedResponseError(LLMError):
    """The server answered something that is not a valid chat completion."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        super().__init__(f"malformed response from {url}: {one_line(detail)}")


class ProviderError(LLMError):
    """Any other error status from the server (bad request, server error, insufficient balance)."""

    def __init__(self, url: str, status: int, detail: str) -> None:
        self.url, self.status = url, status
        self.retryable = status >= 500
        super().__init__(f"{url} answered {status}: {one_line(detail)}")


class BackendUnavailableError(LLMError):
    """The backend needs a package or component that is not installed or does not load."""


class ReplayScriptError(LLMError):
    """A replay script that is missing or not valid; the message names file and line."""


class ReplayExhaustedError(ReplayScriptError):
    """The model was asked for more responses than the replay script holds."""
