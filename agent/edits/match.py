"""Find where a SEARCH text sits in a file and splice the REPLACE text in.

Three tries, strictest first: exact lines; lines equal up to whitespace (the file's own
indentation is re-applied to the replacement); then a fuzzy match that must be clearly
better than any other place in the file. A search that matches nothing, or several places,
comes back as ``Unmatched`` with the closest candidate snippets for the model.
"""

from __future__ import annotations

import difflib
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

MatchMethod = Literal["exact", "whitespace", "fuzzy"]

FUZZY_THRESHOLD = 0.85
"""Least similarity (difflib ratio, 0..1) a fuzzy match needs."""
FUZZY_MARGIN = 0.05
"""How much better the best fuzzy match must be than the next place in the file."""
_SEED_WINDOWS = 12
_MAX_SNIPPET_LINES = 20


@dataclass(frozen=True)
class Candidate:
    """A place in the file that resembles the SEARCH text."""

    start_line: int
    """1-based, inclusive."""
    end_line: int
    """1-based, inclusive."""
    similarity: float
    text: str

    def __str__(self) -> str:
        lines = self.text.splitlines()
        shown = lines[:_MAX_SNIPPET_LINES]
        body = "\n".join(f"{self.start_line + k:>5} | {line}" for k, line in enumerate(shown))
        if len(lines) > len(shown):
            body += f"\n      | ... ({len(lines) - len(shown)} more lines)"
        return (f"lines {self.start_line}-{self.end_line} "
                f"({round(self.similarity * 100)}% similar):\n{body}")


@dataclass(frozen=True)
class Replaced:
    """The SEARCH text was found once; ``text`` is the file with the replacement spliced in."""

    text: str
    method: MatchMethod
    similarity: float
    start_line: int
    """1-based first line of the file text that was replaced."""
    end_line: int
    matched: str
    """The file text that was replaced (differs from SEARCH unless the match was exact)."""


@dataclass(frozen=True)
class Unmatched:
    """The SEARCH text matched no place, or several; ``candidates`` are the closest ones."""

    reason: str
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class _Window:
    start: int
    end: int
    score: float


def replace_in_text(content: str, search: str, replace: str, *,
                    fuzzy_threshold: float = FUZZY_THRESHOLD) -> Replaced | Unmatched:
    """Replace the one place in ``content`` that matches ``search`` with ``replace``."""
    file_lines = content.splitlines(keepends=True)
    body = [line.rstrip("\r\n") for line in file_lines]
    search_full, replace_full = search.splitlines(), replace.splitlines()
    search_lines, replace_lines = _trim_blank_edges(search_full), _trim_blank_edges(replace_full)
    if not search_lines:
        return Unmatched("the SEARCH section holds only blank lines; quote the lines to replace")

    for s_lines, r_lines in ((search_full, replace_full), (search_lines, replace_lines)):
        spots = _find_all(body, s_lines, _exact_key)
        if len(spots) == 1:
            return _splice(file_lines, body, spots[0], len(s_lines), s_lines, r_lines,
                           "exact", 1.0)
        if len(spots) > 1:
            return _ambiguous(body, spots, len(s_lines), "exactly")

    spots = _find_all(body, search_lines, _ws_key)
    if len(spots) == 1:
        return _splice(file_lines, body, spots[0], len(search_lines), search_lines,
                       replace_lines, "whitespace", 1.0)
    if len(spots) > 1:
        return _ambiguous(body, spots, len(search_lines), "up to whitespace")

    windows = _fuzzy_windows(body, search_lines)
    best = windows[0] if windows else None
    others = [w for w in windows[1:] if best is None or not _overlaps(w, best)]
    if best is not None and best.score >= fuzzy_threshold:
        rival = others[0] if others else None
        if rival is None or rival.score < best.score - FUZZY_MARGIN:
            return _splice(file_lines, body, best.start, best.end - best.start, search_lines,
                           replace_lines, "fuzzy", best.score)
        return Unmatched(
            "the SEARCH text resembles several places equally; add surrounding lines "
            "to make it unique",
            [_candidate(body, w) for w in [best, *others][:3]])
    return Unmatched(
        "the SEARCH text matches no lines of the file; copy the lines exactly from the file",
        [_candidate(body, w) for w in _distinct([w for w in windows if w.score > 0.3])[:3]])


def _trim_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _exact_key(line: str) -> str:
    return line


def _ws_key(line: str) -> str:
    return " ".join(line.split())


def _find_all(body: list[str], needle: list[str], key: object) -> list[int]:
    """Start indexes where ``needle`` equals ``body`` line by line under ``key``."""
    n = len(needle)
    if n == 0 or n > len(body):
        return []
    keyed = [key(line) for line in body]  # type: ignore[operator]
    want = [key(line) for line in needle]  # type: ignore[operator]
    return [i for i in range(len(body) - n + 1)
            if keyed[i] == want[0] and keyed[i:i + n] == want]


def _ambiguous(body: list[str], spots: list[int], n: int, how: str) -> Unmatched:
    candidates = [_candidate(body, _Window(s, s + n, 1.0)) for s in spots[:5]]
    where = ", ".join(str(s + 1) for s in spots[:10])
    return Unmatched(
        f"the SEARCH text matches {len(spots)} places {how} (lines {where}); "
        "add surrounding lines to make it unique", candidates)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _first_indent(lines: list[str]) -> str:
    return next((_indent(line) for line in lines if line.strip()), "")


def _reindent(replace_lines: list[str], search_indent: str, file_indent: str) -> list[str]:
    """Move the replacement from the SEARCH text's indentation to the file's."""
    if search_indent == file_indent:
        return replace_lines
    out = []
    for line in replace_lines:
        if not line.strip():
            out.append(line)
        elif line.startswith(search_indent):
            out.append(file_indent + line[len(search_indent):])
        else:  # less indented than the search's first line: keep its own relative shape
            out.append(file_indent + line.lstrip())
    return out


def _newline(file_lines: list[str]) -> str:
    crlf = sum(1 for line in file_lines if line.endswith("\r\n"))
    return "\r\n" if crlf * 2 > len(file_lines) else "\n"


def _splice(file_lines: list[str], body: list[str], start: int, n: int,
            search_lines: list[str], replace_lines: list[str], method: MatchMethod,
            similarity: float) -> Replaced:
    end = start + n
    window = body[start:end]
    if method != "exact":
        replace_lines = _reindent(replace_lines, _first_indent(search_lines), _first_indent(window))
    nl = _newline(file_lines)
    middle = nl.join(replace_lines)
    ends_file_without_newline = end == len(file_lines) and not file_lines[-1].endswith("\n")
    if replace_lines and not ends_file_without_newline:
        middle += nl
    text = "".join(file_lines[:start]) + middle + "".join(file_lines[end:])
    return Replaced(text=text, method=method, similarity=similarity, start_line=start + 1,
                    end_line=end, matched="".join(file_lines[start:end]))


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def _similarity(a: Sequence[str], b: Sequence[str], floor: float) -> float:
    """difflib's ratio over tokens (words and punctuation): whitespace never counts, and it
    is an order of magnitude cheaper than comparing characters."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def _window_tokens(line_tokens: list[list[str]]) -> list[str]:
    out: list[str] = []
    for tokens in line_tokens:
        out.extend(tokens)
        out.append("\n")
    return out


def _fuzzy_windows(body: list[str], search_lines: list[str]) -> list[_Window]:
    """Windows of the file scored against the search, best first.

    Scoring every window would be quadratic on big files, so seed windows come from lines
    that equal a search line (up to whitespace), or, when none does, from lines like the
    search's first line; only windows around the seeds are scored.
    """
    n = len(search_lines)
    if not body:
        return []
    body_tokens = [_tokens(line) for line in body]
    seeds = _seed_starts(body, body_tokens, search_lines)
    target = _window_tokens([_tokens(line) for line in search_lines])
    sizes = sorted({max(1, n - 1), n, n + 1})
    scored: dict[tuple[int, int], float] = {}
    for seed in seeds:
        for start in (seed - 1, seed, seed + 1):
            for size in sizes:
                if start < 0 or start + size > len(body) or (start, start + size) in scored:
                    continue
                window = _window_tokens(body_tokens[start:start + size])
                scored[(start, start + size)] = _similarity(target, window, 0.0)
    windows = [_Window(s, e, score) for (s, e), score in scored.items()]
    windows.sort(key=lambda w: (-w.score, w.start, w.end - w.start))
    return windows


def _seed_starts(body: list[str], body_tokens: list[list[str]],
                 search_lines: list[str]) -> list[int]:
    n = len(search_lines)
    wanted = {_ws_key(line) for line in search_lines if line.strip()}
    hit = [1 if line.strip() and _ws_key(line) in wanted else 0 for line in body]
    window_hits = []
    running = sum(hit[:n])
    for start in range(max(1, len(body) - n + 1)):
        if start:
            running += (hit[start + n - 1] if start + n - 1 < len(body) else 0) - hit[start - 1]
        if running:
            window_hits.append((running, -start))
    if window_hits:
        seeds: list[int] = []
        for _, neg in sorted(window_hits, reverse=True):
            # Neighbours are scored anyway (start ± 1), so spread the seeds out so that a
            # second similar region of the file is scored too.
            if all(abs(-neg - s) > 2 for s in seeds):
                seeds.append(-neg)
                if len(seeds) == _SEED_WINDOWS:
                    break
        return seeds
    # No line agrees even up to whitespace: anchor on the lines most like the first one.
    first_at = next(k for k, line in enumerate(search_lines) if line.strip())
    first = _tokens(search_lines[first_at])
    scores = [(_similarity(first, tokens, 0.3), k) for k, tokens in enumerate(body_tokens)]
    return [max(0, k - first_at) for score, k in heapq.nlargest(_SEED_WINDOWS, scores) if score]


def _overlaps(a: _Window, b: _Window) -> bool:
    return a.start < b.end and b.start < a.end


def _distinct(windows: list[_Window]) -> list[_Window]:
    """Best-first windows with overlapping runners-up removed."""
    kept: list[_Window] = []
    for w in windows:
        if not any(_overlaps(w, k) for k in kept):
            kept.append(w)
    return kept


def _candidate(body: list[str], w: _Window) -> Candidate:
    return Candidate(start_line=w.start + 1, end_line=w.end, similarity=w.score,
                     text="\n".join(body[w.start:w.end]))


def match_diff(search: str, matched: str, path: str) -> str:
    """A unified diff from what the model quoted to what the file holds (for fuzzy notes)."""
    return "".join(difflib.unified_diff(
        search.splitlines(keepends=True), matched.splitlines(keepends=True),
        fromfile=f"SEARCH ({path})", tofile=f"file ({path})"))
