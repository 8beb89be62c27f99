"""Render the ranked definitions as file outlines that fit a token budget exactly.

Entries are (file, name) pairs in rank order, then the remaining definitions of ranked
files, then files that define nothing. A binary search over the number of entries renders
each candidate and counts it with the real tokenizer; a cheap under-estimate from header
lengths bounds the search so it never renders far too much.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.graph import RefGraph
from indexer.models import DefTag, ParsedFile, RepoMap
from indexer.rank import Ranking
from indexer.skeleton import outline_of
from indexer.tokens import TokenCounter

_ESTIMATE_SLACK = 1.25
_MAX_SKIPS = 4
_FULL_ENOUGH = 0.97
_CHARS_PER_TOKEN = 5
"""Code runs 3-4 characters a token; assuming 5 under-estimates, so the search bound is safe."""


@dataclass(frozen=True, slots=True)
class MapEntry:
    path: str
    defs: tuple[int, ...]
    """Indices into the file's definitions (empty: the file is listed by name only)."""
    estimate: int


def map_entries(graph: RefGraph, ranking: Ranking, parsed: Mapping[str, ParsedFile]) -> Iterator[MapEntry]:
    """Every entry a map could show, most relevant first (lazily: maps stop early)."""
    names: dict[str, dict[str, list[int]]] = {}

    def entry(path: str, name: str) -> MapEntry:
        by_name = names.get(path)
        if by_name is None:
            by_name = names[path] = _names_of(parsed[path])
        idx = tuple(by_name[name])
        defs = parsed[path].defs
        return MapEntry(path, idx, sum(len(defs[i].header) // _CHARS_PER_TOKEN + 2 for i in idx))

    taken: set[tuple[str, str]] = set()
    order = np.argsort(-ranking.pair_rank, kind="stable")
    for p in order[ranking.pair_rank[order] > 0]:
        path = graph.files[int(graph.pair_file[p])]
        name = graph.idents[int(graph.pair_ident[p])]
        taken.add((path, name))
        yield entry(path, name)
    # Definitions nobody uses yet, file by file in rank order, outer ones first.
    nameless: list[str] = []
    for i in np.argsort(-ranking.file_rank, kind="stable"):
        path = graph.files[int(i)]
        defs = parsed[path].defs
        if not defs:
            nameless.append(path)
            continue
        for _d, _line, name in sorted(
            (_depth(defs, d.parent), d.line, d.name) for d in defs
        ):
            if (path, name) not in taken:
                taken.add((path, name))
                yield entry(path, name)
    for path in nameless:
        yield MapEntry(path, (), 0)


def _names_of(pf: ParsedFile) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, d in enumerate(pf.defs):
        out.setdefault(d.name, []).append(i)
    return out


def _depth(defs: Sequence[DefTag], parent: int) -> int:
    depth = 0
    while parent >= 0:
        depth, parent = depth + 1, defs[parent].parent
    return depth


def render_map(entries: list[MapEntry], parsed: Mapping[str, ParsedFile]) -> tuple[str, list[str], int]:
    """The map text of these entries, the files shown (in order) and definitions shown."""
    chosen: dict[str, list[int]] = {}
    for e in entries:
        chosen.setdefault(e.path, []).extend(e.defs)
    blocks: list[str] = []
    n_defs = 0
    for path, idx in chosen.items():
        n_defs += len(idx)
        outline = outline_of(parsed[path].defs, idx) if idx else ""
        blocks.append(f"{path}:\n{outline}")
    return "".join(blocks), list(chosen), n_defs


def fit_map(candidates: Iterable[MapEntry], parsed: Mapping[str, ParsedFile], counter: TokenCounter,
            budget: int) -> RepoMap:
    """The longest prefix of ``entries`` whose rendering is at most ``budget`` tokens."""
    if budget <= 0:
        return RepoMap("", 0, budget, [], 0)
    # Take entries until the estimate (file name lines plus header tokens plus elision
    # marks) is well past the budget: an upper bound for the search.
    entries: list[MapEntry] = []
    est = 0
    seen: set[str] = set()
    for e in candidates:
        entries.append(e)
        if e.path not in seen:
            seen.add(e.path)
            est += len(e.path) // 3 + 2
        est += e.estimate
        if est > budget * _ESTIMATE_SLACK + 64:
            break
    best = _longest_prefix(entries, parsed, counter, budget, 0)
    # One entry (a name defined many times in one file) can be far larger than the rest:
    # drop the first that does not fit and keep filling, a few times at most.
    for _ in range(_MAX_SKIPS):
        n = best[4]
        if n >= len(entries) or best[3] >= budget * _FULL_ENOUGH:
            break
        entries = entries[:n] + entries[n + 1:]
        best = _longest_prefix(entries, parsed, counter, budget, n)
    text, files, n_defs, tokens, _n = best
    return RepoMap(text=text, tokens=tokens, budget=budget, files=files, symbols=n_defs)


def _longest_prefix(entries: list[MapEntry], parsed: Mapping[str, ParsedFile], counter: TokenCounter,
                    budget: int, known_fit: int) -> tuple[str, list[str], int, int, int]:
    """Binary search for the most entries whose rendering fits (the first ``known_fit`` do)."""
    best: tuple[str, list[str], int, int, int] = ("", [], 0, 0, 0)
    if known_fit:
        text, files, n_defs = render_map(entries[:known_fit], parsed)
        best = (text, files, n_defs, counter.count(text), known_fit)
    lo, hi = known_fit + 1, len(entries)
    while lo <= hi:
        mid = (lo + hi) // 2
        text, files, n_defs = render_map(entries[:mid], parsed)
        tokens = counter.count(text)
        if tokens <= budget:
            best = (text, files, n_defs, tokens, mid)
            lo = mid + 1
        else:
            hi = mid - 1
    return best
