"""The data the indexer hands to its callers, and the compact per-file parse result it caches."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple


class DefTag(NamedTuple):
    """One definition found in a file (compact: many thousands are held in memory)."""

    name: str
    kind: str
    """function, method, class, struct, interface, enum, trait, impl, module, type,
    constant, variable or macro."""
    line: int
    """First line (1-based) of the definition."""
    end_line: int
    header: str
    """The source lines that introduce it (signature, class line), original indentation."""
    doc: str
    """First line of its docstring or leading comment, if any."""
    parent: int
    """Index of the enclosing definition in the same file, or -1."""


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What parsing one blob produced; cached by blob SHA."""

    language: str | None
    lines: int
    tokens: int
    """Exact tokens of the full text."""
    skeleton: str
    skeleton_tokens: int
    defs: tuple[DefTag, ...]
    refs: dict[str, tuple[int, ...]]
    """Referenced name -> lines (1-based) where it is used."""
    syntax_errors: bool = False
    """The parser had to recover from errors; what parsed is kept."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """An indexed file."""

    path: str
    language: str | None
    sha: str
    size: int
    lines: int
    tokens: int
    skeleton_tokens: int
    symbols: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Definition:
    """Where and how a symbol is defined."""

    name: str
    kind: str
    path: str
    line: int
    end_line: int
    signature: str
    doc: str
    parent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Reference:
    """One use of a symbol."""

    path: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """Definitions and references of one name."""

    name: str
    definitions: list[Definition]
    references: list[Reference]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "definitions": [d.to_dict() for d in self.definitions],
            "references": [r.to_dict() for r in self.references],
        }


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: a definition, or a file when no definition matched better."""

    path: str
    line: int
    symbol: str | None
    kind: str | None
    snippet: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class RefreshStats:
    """What one refresh did."""

    files: int = 0
    """Files in the index after the refresh."""
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    reparsed: int = 0
    """Blobs actually parsed (a changed file whose content is cached needs none)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Files left out, by reason (binary, too-large, secret, vendored, symlink, ...)."""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RepoMap:
    """Ranked file outlines that fit a token budget."""

    text: str
    tokens: int
    """Exact tokens of ``text``."""
    budget: int
    files: list[str]
    """Files shown, most relevant first."""
    symbols: int
    """Definitions shown."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PackMode = Literal["full", "skeleton"]


FORMATS: tuple[str, ...] = ("markdown", "xml", "json")
"""Text formats a ``Pack`` renders to (json is ``to_dict`` serialized)."""
