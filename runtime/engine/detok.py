"""Incremental detokenization and stop strings, correct for text split across tokens.

A multi-byte character (emoji, CJK) can span several byte-level tokens; decoding a prefix of
them yields U+FFFD. We decode a short window of recent tokens and only release text once it no
longer ends in a partial character, so streamed deltas concatenate to the full decode.
"""

from __future__ import annotations

from collections.abc import Callable

_REPLACEMENT = "\ufffd"


class IncrementalDetokenizer:
    """Turns a growing list of token ids into text deltas."""

    def __init__(self, decode: Callable[[list[int]], str], prompt_tail: list[int] | None = None) -> None:
        self._decode = decode
        # A few prompt tokens give context so a leading space or merge decodes as it would in full.
        self.tokens: list[int] = list(prompt_tail or [])
        self._prefix = 0
        self._read = len(self.tokens)

    def add(self, token_id: int) -> str:
        """Append one token; return the newly complete text (possibly empty)."""
        self.tokens.append(token_id)
        prefix_text = self._decode(self.tokens[self._prefix : self._read])
        full_text = self._decode(self.tokens[self._prefix :])
        if len(full_text) > len(prefix_text) and not full_text.endswith(_REPLACEMENT):
            self._prefix, self._read = self._read, len(self.tokens)
            return full_text[len(prefix_text) :]
        return ""

    def flush(self) -> str:
        """Text still held back at the end of the sequence (an incomplete character, as U+FFFD)."""
        prefix_text = self._decode(self.tokens[self._prefix : self._read])
        full_text = self._decode(self.tokens[self._prefix :])
        self._prefix = self._read = len(self.tokens)
        return full_text[len(prefix_text) :]


class StopStringMatcher:
    """Finds stop strings in streamed text, holding back a tail that could begin one."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self._held = ""

    def feed(self, delta: str) -> tuple[str, bool]:
        """Return (text safe to emit, whether a stop string was hit)."""
        if not self.stops:
            return delta, False
        text = self._held + delta
        hits = [i for s in self.stops if (i := text.find(s)) >= 0]
        if hits:
            self._held = ""
            return text[: min(hits)], True
        keep = max((self._partial(text, s) for s in self.stops), default=0)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep], False

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held

    @staticmethod
    def _partial(text: str, stop: str) -> int:
        # Longest suffix of ``text`` that is a proper prefix of ``stop``.
        for n in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:n]):
                return n
        return 0
