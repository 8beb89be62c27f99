"""Cutting a streamed markdown answer into finished chunks, so each renders once.

Re-rendering a whole answer on every delta costs O(n) per delta; a 5,000-line answer would
then stall the screen. The chunker closes a chunk at each blank line outside code, at each
code fence, and every ``max_lines`` lines, and keeps only the unfinished tail to re-render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChunkKind = Literal["markdown", "code"]


@dataclass(frozen=True)
class Chunk:
    """A finished (or, as the tail, unfinished) piece of the answer."""

    kind: ChunkKind
    text: str
    language: str = ""
    """The code fence's language (``code`` chunks only)."""
    gap_after: bool = False
    """A blank line followed it (a paragraph break)."""


@dataclass
class MarkdownChunker:
    """Feed text as it streams; take finished chunks out; ``tail()`` is the rest so far."""

    max_lines: int = 40
    _partial: str = ""
    _lines: list[str] = field(default_factory=list)
    _in_code: bool = False
    _fence: str = ""
    _language: str = ""

    @property
    def in_code(self) -> bool:
        return self._in_code

    def feed(self, text: str) -> list[Chunk]:
        """Add streamed text; returns the chunks it finished."""
        done: list[Chunk] = []
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        for line in pieces:
            self._line(line, done)
        return done

    def finish(self) -> list[Chunk]:
        """The answer is complete: every remaining line as finished chunks."""
        done: list[Chunk] = []
        if self._partial:
            self._line(self._partial, done)
            self._partial = ""
        self._flush(done)
        self._in_code = False
        return done

    def tail(self) -> Chunk | None:
        """The unfinished rest (re-rendered on each delta), or None when there is none."""
        lines = self._lines + ([self._partial] if self._partial else [])
        if not lines:
            return None
        kind: ChunkKind = "code" if self._in_code else "markdown"
        return Chunk(kind, "\n".join(lines), self._language if self._in_code else "")

    def _line(self, line: str, done: list[Chunk]) -> None:
        stripped = line.strip()
        if self._in_code:
            if stripped.startswith(self._fence) and stripped.strip("`~") == "":
                self._flush(done, gap=True)
                self._in_code = False
                return
            self._lines.append(line)
        elif stripped.startswith(("```", "~~~")):
            self._flush(done)
            marker = stripped[0]
            self._fence = marker * (len(stripped) - len(stripped.lstrip(marker)))
            self._language = stripped.lstrip(marker).strip().split(" ")[0]
            self._in_code = True
            return
        elif not stripped:
            self._flush(done, gap=True)
            return
        else:
            self._lines.append(line)
        if len(self._lines) >= self.max_lines:
            self._flush(done)

    def _flush(self, done: list[Chunk], gap: bool = False) -> None:
        if not self._lines:
            return
        kind: ChunkKind = "code" if self._in_code else "markdown"
        done.append(Chunk(kind, "\n".join(self._lines), self._language if self._in_code else "",
                          gap_after=gap))
        self._lines = []
