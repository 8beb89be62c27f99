"""The reference graph: files are nodes; a file that uses a name points at the files that
define it, one edge per (user, name, definer).

Edges are kept as flat numpy arrays so ranking and the attribution of rank to definitions
are vectorized. Like aider's repo map, an edge weighs ``sqrt(uses)`` times a factor for the
name: long descriptive names count more, private names and names defined in many files
count less. Query-dependent factors are applied later, per ranking (see ``rank.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.models import ParsedFile

_CAMEL = re.compile(r"[a-z][A-Z]")
_COMMON_DEFINERS = 5
# Method names every container, stream or object has: a call to ``x.append`` almost never
# means the project's own ``append``, so such uses say little about who defines them.
_GENERIC_NAMES = frozenset(
    ["add", "append", "apply", "call", "clear", "close", "copy", "count", "debug", "emit", "equals", "error", "extend", "filter", "find", "format", "get", "hashCode", "index", "info", "init", "insert", "items", "iter", "join", "keys", "len", "length", "log", "map", "new", "next", "open", "pop", "print", "printf", "println", "push", "read", "reduce", "remove", "replace", "run", "send", "set", "size", "sort", "split", "start", "stop", "strip", "toString", "update", "values", "warn", "write"]
)


@dataclass(frozen=True)
class RefGraph:
    """Files, defined names and the edges between files."""

    files: list[str]
    file_index: dict[str, int]
    idents: list[str]
    ident_index: dict[str, int]
    src: np.ndarray
    """Edge source file (the user of a name)."""
    dst: np.ndarray
    """Edge target file (a definer of that name)."""
    ident: np.ndarray
    """Edge name."""
    weight: np.ndarray
    """Base edge weight."""
    pair: np.ndarray
    """Index of the edge's (name, definer) pair in ``pair_file``/``pair_ident``."""
    pair_file: np.ndarray
    pair_ident: np.ndarray

    @property
    def n_files(self) -> int:
        return len(self.files)


def name_weight(name: str, n_definers: int) -> float:
    """How much a use of ``name`` says about the files that define it."""
    w = 1.0
    if len(name) >= 8 and ("_" in name.strip("_") or _CAMEL.search(name)):
        w *= 10.0
    if name.startswith("_") or name in _GENERIC_NAMES:
        w *= 0.1
    if n_definers > _COMMON_DEFINERS:
        w *= 0.1
    return w


def build_graph(files: Sequence[str], parsed: Mapping[str, ParsedFile]) -> RefGraph:
    """Build the graph for ``files`` (in this node order) from their parse results."""
    file_index = {p: i for i, p in enumerate(files)}
    definers: dict[str, list[int]] = {}
    for i, path in enumerate(files):
        for name in {d.name for d in parsed[path].defs}:
            found = definers.get(name)
            if found is None:
                definers[name] = [i]
            else:
                found.append(i)
    idents = list(definers)
    ident_index = {name: k for k, name in enumerate(idents)}
    counts = np.fromiter((len(definers[n]) for n in idents), dtype=np.int64, count=len(idents))
    ptr = np.zeros(len(idents) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    pair_file = np.fromiter((f for n in idents for f in definers[n]), dtype=np.int64, count=int(ptr[-1]))
    pair_ident = np.repeat(np.arange(len(idents), dtype=np.int64), counts)
    name_w = np.fromiter((name_weight(n, len(definers[n])) for n in idents), dtype=np.float64,
                         count=len(idents))

    # One row per (user file, used name that some file defines).
    r_file: list[int] = []
    r_ident: list[int] = []
    r_uses: list[int] = []
    lookup = ident_index.get
    for i, path in enumerate(files):
        refs = parsed[path].refs
        hits = [(k, len(rows)) for k, rows in zip(map(lookup, refs), refs.values()) if k is not None]
        if hits:
            r_file.extend([i] * len(hits))
            r_ident.extend(k for k, _ in hits)
            r_uses.extend(n for _, n in hits)
    rf = np.asarray(r_file, dtype=np.int64)
    ri = np.asarray(r_ident, dtype=np.int64)
    base = np.sqrt(np.asarray(r_uses, dtype=np.float64)) * name_w[ri] if len(ri) else np.zeros(0)

    # Expand each row into one edge per definer of its name.
    fan = counts[ri] if len(ri) else np.zeros(0, dtype=np.int64)
    total = int(fan.sum())
    starts = np.repeat(ptr[ri] - (np.cumsum(fan) - fan), fan) if total else np.zeros(0, dtype=np.int64)
    pair = starts + np.arange(total, dtype=np.int64)
    src = np.repeat(rf, fan)
    dst = pair_file[pair] if total else np.zeros(0, dtype=np.int64)
    keep = src != dst  # a file using its own names says nothing about its importance
    return RefGraph(
        files=list(files), file_index=file_index, idents=idents, ident_index=ident_index,
        src=src[keep], dst=dst[keep], ident=np.repeat(ri, fan)[keep],
        weight=np.repeat(base, fan)[keep], pair=pair[keep],
        pair_file=pair_file, pair_ident=pair_ident,
    )


def mentioned_names(text: str, known: Mapping[str, int]) -> set[str]:
    """Names in free text that the graph knows (``Foo.bar`` yields both)."""
    return {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if w in known and len(w) >= 3}
