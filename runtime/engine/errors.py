"""The engine's exceptions: each message is one line a user can act on."""

from __future__ import annotations


class EngineError(Exception):
    """Base class; the message is all the user needs."""


class ModelLoadError(EngineError):
    """A model that cannot be read: missing, truncated or malformed files."""


class UnsupportedModelError(ModelLoadError):
    """A well-formed model the engine does not run (architecture, quant type, tokenizer)."""


class ContextLengthError(EngineError):
    """A prompt (plus its output budget) that does not fit the context window or the KV cache."""


class RequestError(EngineError):
    """A request with invalid parameters."""


class PullError(EngineError):
    """Fetching a model into the local cache failed."""
