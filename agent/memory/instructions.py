"""Project instruction files (AGENTS.md, CLAUDE.md, .engram/memory.md) as memory entries.

A file becomes one entry per rule: each list item, paragraph or fenced code block, prefixed
with the headings above it so that "Testing: run `pytest -q`" is found by a context about
tests. Blocks longer than an entry may hold are cut at line or sentence boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class DecodedFile:
    text: str
    problem: str | None
    """Set when the bytes were not valid UTF-8 (undecodable bytes were replaced)."""


def decode(data: bytes, name: str) -> DecodedFile:
    """UTF-8 text (a BOM is dropped); invalid bytes are replaced and reported."""
    try:
        return DecodedFile(data.decode("utf-8-sig"), None)
    except UnicodeDecodeError as exc:
        problem = (f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                   f"{exc.start}); undecodable bytes were replaced")
        return DecodedFile(data.decode("utf-8-sig", errors="replace"), problem)


def split_rules(text: str, max_chars: int) -> list[str]:
    """The entries a markdown instruction file yields, in file order, without repeats."""
    headings: list[str] = []
    blocks: list[tuple[str, str]] = []
    current: list[str] = []
    in_fence = False

    def flush() -> None:
        if current:
            body = "\n".join(current).strip()
            if body:
                blocks.append((" > ".join(h for h in headings if h), body))
            current.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            if not in_fence:
                flush()
            current.append(line)
            in_fence = not in_fence
            if not in_fence:
                flush()
            continue
        if in_fence:
            current.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            del headings[level - 1:]
            headings.extend([""] * (level - 1 - len(headings)))
            headings.append(heading.group(2).strip())
            continue
        if not line.strip():
            flush()
        elif _LIST_ITEM.match(line):
            flush()
            current.append(_LIST_ITEM.sub("", line, count=1))
        else:
            current.append(line.strip())
    flush()

    rules: list[str] = []
    for prefix, body in blocks:
        for piece in _cut(body, max_chars - len(prefix) - 2 if prefix else max_chars):
            rules.append(f"{prefix}: {piece}" if prefix else piece)
    return list(dict.fromkeys(rules))


def _cut(body: str, limit: int) -> list[str]:
    """``body`` in pieces of at most ``limit`` characters, split at lines, then sentences."""
    limit = max(limit, 16)
    if len(body) <= limit:
        return [body]
    units: list[str] = []
    for line in body.splitlines():
        if len(line) <= limit:
            units.append(line)
            continue
        for sentence in _SENTENCE_END.split(line):
            units.extend(sentence[i:i + limit] for i in range(0, len(sentence), limit))
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}\n{unit}" if current else unit
        if len(candidate) <= limit:
            current = candidate
        else:
            if current.strip():
                pieces.append(current.strip())
            current = unit
    if current.strip():
        pieces.append(current.strip())
    return pieces
