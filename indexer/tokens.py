"""Exact token counts with OpenAI's BPE encodings, offline.

``bpe-openai`` bundles the cl100k/o200k tables with a tiktoken-compatible API;
``tiktoken.get_encoding`` would download them on first use and fails offline.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import bpe_openai

# bpe-openai refuses single calls above ~200K tokens / 1M characters. Text is split into
# pieces at a newline followed by a non-space character: no o200k/cl100k pre-token spans
# such a boundary, so the counts of the pieces add up exactly.
_PIECE_CHARS = 400_000
_SAFE_SPLIT = re.compile(r"\n(?=\S)")

SUPPORTED_ENCODINGS = ("o200k_base", "cl100k_base")


class UnknownEncodingError(ValueError):
    """An encoding name this build cannot count with."""


@lru_cache(maxsize=4)
def _encoding(name: str) -> bpe_openai.Encoding:
    if name not in SUPPORTED_ENCODINGS:
        raise UnknownEncodingError(
            f"unknown tokenizer encoding {name!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}"
        )
    return bpe_openai.get_encoding(name)


@lru_cache(maxsize=4)
def _fast_counter(name: str) -> Any | None:
    """The Rust tokenizer's own ``count`` (no token list is built), when this build has it."""
    try:
        from bpe_openai import _bindings

        return _bindings.tokenizer_for_encoding(name)
    except (ImportError, AttributeError, ValueError, RuntimeError):
        return None


def split_for_counting(text: str, max_chars: int = _PIECE_CHARS) -> list[str]:
    """Split ``text`` into pieces whose token counts sum to the count of the whole."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    start = 0
    while len(text) - start > max_chars:
        window_end = start + max_chars
        cut = -1
        for m in _SAFE_SPLIT.finditer(text, start + max_chars // 2, window_end):
            cut = m.end()
        if cut <= start:
            # No safe boundary in the window (one enormous line): cut anyway; the count
            # may then differ by a token or two at that seam, never more.
            cut = window_end
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


class TokenCounter:
    """Counts, encodes and decodes text with one BPE encoding (``o200k_base`` by default)."""

    def __init__(self, encoding: str = "o200k_base") -> None:
        self.encoding_name = encoding
        self._enc = _encoding(encoding)
        self._fast = _fast_counter(encoding)

    def count(self, text: str) -> int:
        """Exact number of tokens in ``text`` (special-token text is counted as plain text)."""
        if not text:
            return 0
        if self._fast is not None:
            try:
                return int(self._fast.count(text))
            except (UnicodeEncodeError, ValueError, OverflowError):
                pass  # lone surrogates etc.: the sanitizing path below handles them
        return sum(len(self._enc.encode_ordinary(p)) for p in split_for_counting(text))

    def encode(self, text: str) -> list[int]:
        tokens: list[int] = []
        for piece in split_for_counting(text):
            tokens.extend(self._enc.encode_ordinary(piece))
        return tokens

    def decode(self, tokens: list[int]) -> str:
        return self._enc.decode(tokens)

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` that is at most ``max_tokens`` tokens."""
        if max_tokens <= 0:
            return ""
        tokens = self.encode(text)
        if len(tokens) <= max_tokens:
            return text
        # Decoding a token prefix can split a multi-byte character; drop the broken tail
        # and re-check so the result never exceeds the budget.
        cut = self._enc.decode_bytes(tokens[:max_tokens]).decode("utf-8", errors="ignore")
        while cut and self.count(cut) > max_tokens:
            cut = cut[:-1]
        return cut
