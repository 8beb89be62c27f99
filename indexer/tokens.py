"""Exact token counts with OpenAI's BPE encodings, offline.

``bpe-openai`` bundles the cl100k/o200k tables with a tiktoken-compatible API;
``tiktoken.get_encoding`` would download them on first use and fails offline.
"""

from __future__ import annotations

from functools import lru_cache

import bpe_openai

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


class TokenCounter:
    """Counts, encodes and decodes text with one BPE encoding (``o200k_base`` by default)."""

    def __init__(self, encoding: str = "o200k_base") -> None:
        self.encoding_name = encoding
        self._enc = _encoding(encoding)

    def count(self, text: str) -> int:
        """Exact number of tokens in ``text`` (special-token text is counted as plain text)."""
        if not text:
            return 0
        return len(self._enc.encode_ordinary(text))

    def encode(self, text: str) -> list[int]:
        return self._enc.encode_ordinary(text)

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
