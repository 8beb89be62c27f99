"""Captures one output stream: keeps its head and tail within a byte budget and hands
complete lines to a callback while the command runs."""

from __future__ import annotations

import codecs
import logging
from collections import deque
from typing import Callable

OutputCallback = Callable[[str, str], None]
"""``on_output(stream, line)``: ``stream`` is ``"stdout"`` or ``"stderr"``; the line has
no trailing newline."""

_LONG_LINE = 64 * 1024  # a line without newline is handed over in pieces of this size

log = logging.getLogger(__name__)


class StreamCapture:
    """Bytes of one stream: the first ``keep_bytes // 2`` and the last ``keep_bytes // 2``."""

    def __init__(self, name: str, keep_bytes: int, on_line: OutputCallback | None) -> None:
        self.name = name
        self.total = 0
        self._head_cap = max(1, keep_bytes // 2)
        self._tail_cap = max(1, keep_bytes - self._head_cap)
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_len = 0
        self._on_line = on_line
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes) -> None:
        """Add bytes the command wrote."""
        self.total += len(data)
        rest = data
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += rest[:room]
            rest = rest[room:]
        if rest:
            self._tail.append(rest)
            self._tail_len += len(rest)
            while self._tail and self._tail_len - len(self._tail[0]) >= self._tail_cap:
                self._tail_len -= len(self._tail.popleft())
        if self._on_line is not None:
            self._emit(self._decoder.decode(data))

    def close(self) -> None:
        """The stream ended: hand over the last partial line."""
        if self._on_line is not None:
            self._emit(self._decoder.decode(b"", final=True))
            if self._partial:
                self._call(self._partial)
                self._partial = ""

    @property
    def truncated(self) -> bool:
        """True when bytes were dropped between head and tail."""
        return self.total > len(self._head) + self._tail_len

    def text(self) -> str:
        """The kept output decoded as UTF-8 (invalid bytes replaced), with a marker where
        bytes were dropped."""
        if not self.truncated:
            return (bytes(self._head) + b"".join(self._tail)).decode("utf-8", "replace")
        tail = b"".join(self._tail)[-self._tail_cap:]
        dropped = self.total - len(self._head) - len(tail)
        marker = f"\n[... {dropped} bytes of {self.name} omitted ...]\n"
        return (bytes(self._head).decode("utf-8", "replace") + marker
                + tail.decode("utf-8", "replace"))

    def _emit(self, text: str) -> None:
        if not text:
            return
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._call(line.removesuffix("\r"))
        while len(self._partial) >= _LONG_LINE:
            self._call(self._partial[:_LONG_LINE])
            self._partial = self._partial[_LONG_LINE:]

    def _call(self, line: str) -> None:
        if self._on_line is None:
            return
        try:
            self._on_line(self.name, line)
        except Exception:  # a broken callback must not break the run it observes
            log.exception("on_output callback failed; no more lines are streamed")
            self._on_line = None
