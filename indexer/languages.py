"""Which tree-sitter grammar parses which file, and the tag query for each language.

Grammars come from the per-language wheels (``tree-sitter-python`` and friends), which ship
compiled parsers; nothing is downloaded at run time. Tag queries live in ``queries/*.scm``:
``@definition.<kind>`` marks a definition node and ``@name`` its name; ``@reference.<kind>``
marks an identifier that uses a name.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

from tree_sitter import Language, Parser, Query

_QUERY_DIR = Path(__file__).with_name("queries")


@dataclass(frozen=True)
class LanguageSpec:
    """One language: its grammar entry point and the query files that tag it."""

    name: str
    module: str
    """The grammar wheel's module (``tree_sitter_python``)."""
    function: str = "language"
    """The module function that returns the grammar (``language_tsx`` for TSX)."""
    queries: tuple[str, ...] = ()
    """Query files, without ``.scm``; defaults to the language's own name."""


LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "tree_sitter_python"),
        LanguageSpec("javascript", "tree_sitter_javascript"),
        LanguageSpec("typescript", "tree_sitter_typescript", "language_typescript"),
        LanguageSpec("tsx", "tree_sitter_typescript", "language_tsx", ("typescript", "tsx")),
        LanguageSpec("go", "tree_sitter_go"),
        LanguageSpec("rust", "tree_sitter_rust"),
        LanguageSpec("java", "tree_sitter_java"),
        LanguageSpec("c", "tree_sitter_c"),
        LanguageSpec("cpp", "tree_sitter_cpp"),
        LanguageSpec("ruby", "tree_sitter_ruby"),
        LanguageSpec("c_sharp", "tree_sitter_c_sharp"),
        LanguageSpec("php", "tree_sitter_php", "language_php"),
        LanguageSpec("bash", "tree_sitter_bash"),
    )
}

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp",
    ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby",
    ".cs": "c_sharp",
    ".php": "php",
    ".sh": "bash", ".bash": "bash", ".zsh": "bash",
}

FILENAMES: dict[str, str] = {
    "Rakefile": "ruby", "Gemfile": "ruby", "Guardfile": "ruby",
    ".bashrc": "bash", ".bash_profile": "bash", ".profile": "bash",
}

_SHEBANGS: dict[str, str] = {
    "python": "python", "python3": "python", "bash": "bash", "sh": "bash", "zsh": "bash",
    "node": "javascript", "ruby": "ruby", "php": "php",
}

CONTAINER_KINDS = frozenset(
    {"class", "struct", "interface", "enum", "trait", "impl", "module"}
)
"""Definition kinds that hold other definitions (their headers outline a skeleton)."""

CALLABLE_KINDS = frozenset({"function", "method", "macro"})


def language_for(path: str, head: bytes = b"") -> str | None:
    """The language of ``path`` from its extension, file name or ``#!`` line, else None."""
    p = PurePosixPath(path)
    lang = EXTENSIONS.get(p.suffix.lower()) or FILENAMES.get(p.name)
    if lang is not None or p.suffix:
        return lang
    if head.startswith(b"#!"):
        first = head.split(b"\n", 1)[0].decode("ascii", errors="ignore").split()
        words = [w.rsplit("/", 1)[-1] for w in first]
        if words and words[0] == "env" and len(words) > 1:
            words = words[1:]
        if words:
            return _SHEBANGS.get(words[0].rstrip("0123456789.") or words[0])
    return None


@cache
def grammar(name: str) -> Language:
    """The compiled grammar of a language (loaded once per process)."""
    spec = LANGUAGES[name]
    module = importlib.import_module(spec.module)
    return Language(getattr(module, spec.function)())


@cache
def tag_query(name: str) -> Query:
    """The compiled tag query of a language (loaded once per process)."""
    spec = LANGUAGES[name]
    files = spec.queries or (name,)
    source = "\n".join((_QUERY_DIR / f"{f}.scm").read_text(encoding="utf-8") for f in files)
    return Query(grammar(name), source)


@cache
def pattern_kinds(name: str) -> tuple[str | None, ...]:
    """Per pattern of the tag query: the definition kind it tags, or None for references."""
    query = tag_query(name)
    source = "\n".join(
        (_QUERY_DIR / f"{f}.scm").read_text(encoding="utf-8")
        for f in (LANGUAGES[name].queries or (name,))
    ).encode("utf-8")
    kinds: list[str | None] = []
    for i in range(query.pattern_count):
        text = source[query.start_byte_for_pattern(i):query.end_byte_for_pattern(i)].decode()
        marker = text.find("@definition.")
        kinds.append(re.match(r"@definition\.(\w+)", text[marker:]).group(1) if marker >= 0 else None)
    return tuple(kinds)


def new_parser(name: str) -> Parser:
    """A parser for a language; parsers are cheap but not thread-safe, so callers own them."""
    return Parser(grammar(name))
