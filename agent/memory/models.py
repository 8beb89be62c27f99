"""The data that crosses the memory's boundary: entries, recall results and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

EntryKind = Literal["fact", "convention", "command", "failure", "fix", "file_summary", "preference"]
ENTRY_KINDS: tuple[str, ...] = get_args(EntryKind)
SOURCE_TYPES: tuple[str, ...] = ("file", "commit", "session", "user")


@dataclass(frozen=True)
class MemoryEntry:
    """One remembered item. Times are Unix seconds."""

    id: int
    kind: str
    text: str
    sources: tuple[str, ...]
    """Where it came from: ``user``, ``file:AGENTS.md``, ``commit:<sha>``, ``session:<id>``."""
    confidence: float
    pinned: bool
    created_at: float
    updated_at: float
    last_used_at: float | None
    use_count: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sources"] = list(self.sources)
        return d


@dataclass(frozen=True)
class Recalled:
    """An entry the context called for, and why."""

    entry: MemoryEntry
    score: float
    """Rank score: match strength weighted by recency, use and confidence."""
    gate: float
    """Gate score; only entries at or above the threshold are recalled."""
    matched: tuple[str, ...]
    """The normalized n-grams shared by the context and the entry, longest and rarest first."""
    tokens: int
    """Tokens of the entry's text, as counted against the budget."""

    def to_dict(self) -> dict[str, Any]:
        return {"entry": self.entry.to_dict(), "score": round(self.score, 4),
                "gate": round(self.gate, 4), "matched": list(self.matched), "tokens": self.tokens}


@dataclass
class ImportReport:
    """What an import did: entries added, merged into existing ones, removed, and skipped."""

    added: int = 0
    merged: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)
    """One line per item that was not imported, saying why."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
