"""Checking what callers want remembered, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

from agent.memory.config import MemorySettings
from agent.memory.errors import MemoryInputError
from agent.memory.models import ENTRY_KINDS, SOURCE_TYPES


@dataclass(frozen=True)
class Draft:
    """A validated entry-to-be. Optional times and counts are kept by imports."""

    text: str
    kind: str
    sources: tuple[str, ...]
    confidence: float
    pinned: bool
    created_at: float | None = None
    updated_at: float | None = None
    last_used_at: float | None = None
    use_count: int = 0


def clean_text(text: object, settings: MemorySettings) -> str:
    """The text stripped of surrounding blanks; one-line errors for what cannot be stored."""
    if not isinstance(text, str):
        raise MemoryInputError(f"text must be a string, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MemoryInputError(
            f"text is not valid UTF-8 (undecodable byte at character {exc.start}); "
            "pass it as UTF-8 text") from None
    if "\x00" in text:
        raise MemoryInputError("text contains NUL characters (binary data?); not remembered")
    text = text.strip()
    if not text:
        raise MemoryInputError("text is empty; nothing to remember")
    if len(text) > settings.max_entry_chars:
        raise MemoryInputError(
            f"text is {len(text):,} characters; one entry holds at most "
            f"{settings.max_entry_chars:,}. Remember smaller facts, or put long notes in "
            ".engram/memory.md, which is imported section by section")
    return text


def check_kind(kind: object) -> str:
    if kind not in ENTRY_KINDS:
        raise MemoryInputError(f"unknown kind {kind!r}; use one of: {', '.join(ENTRY_KINDS)}")
    return str(kind)


def check_source(source: object) -> str:
    """``user``, ``file:<path>``, ``commit:<sha>`` or ``session:<id>``."""
    if not isinstance(source, str) or not source.strip():
        raise MemoryInputError(
            "source must be a non-empty string such as 'user' or 'file:AGENTS.md'")
    source = source.strip()
    kind, _, ref = source.partition(":")
    if kind not in SOURCE_TYPES or (kind != "user" and not ref):
        raise MemoryInputError(
            f"unknown source {source!r}; use 'user', 'file:<path>', 'commit:<sha>' or "
            "'session:<id>'")
    return source


def check_confidence(confidence: object) -> float:
    try:
        value = float(confidence)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MemoryInputError(f"confidence must be a number, not {confidence!r}") from None
    if not 0.0 <= value <= 1.0:
        raise MemoryInputError(f"confidence must be between 0 and 1, not {value:g}")
    return value


def make_draft(text: object, kind: object, sources: object, confidence: object,
               pinned: object, settings: MemorySettings, **extra: object) -> Draft:
    """A ``Draft`` from raw values, or ``MemoryInputError`` naming the bad one."""
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, (list, tuple)) or not sources:
        raise MemoryInputError("sources must be a non-empty list")
    checked = tuple(dict.fromkeys(check_source(s) for s in sources))
    return Draft(text=clean_text(text, settings), kind=check_kind(kind), sources=checked,
                 confidence=check_confidence(confidence), pinned=bool(pinned),
                 **extra)  # type: ignore[arg-type]
