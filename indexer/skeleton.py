"""File outlines: the header lines of definitions, in source order, with elision marks.

A skeleton shows every definition of a file; a repo map shows a chosen few plus the
containers they sit in. Both are rendered by ``render_outline``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from indexer.models import DefTag

ELISION = "⋮"


def render_outline(headers: Iterable[tuple[int, str]]) -> str:
    """Render ``(first line, header text)`` pairs, sorted by line, ``⋮`` marking each gap."""
    out: list[str] = []
    last = 0
    for line, header in sorted(headers):
        if line <= last:
            continue  # a one-line container and its member on the same line
        if line > last + 1:
            out.append(ELISION)
        out.append(header)
        last = line + header.count("\n")
    return "\n".join(out) + "\n" if out else ""


def skeleton_text(defs: Sequence[DefTag]) -> str:
    """The outline of a whole file (empty when it defines nothing)."""
    return render_outline((d.line, d.header) for d in defs)


def outline_of(defs: Sequence[DefTag], chosen: Iterable[int]) -> str:
    """The outline of the chosen definitions (indices into ``defs``) and their containers."""
    wanted: set[int] = set()
    for i in chosen:
        while i >= 0 and i not in wanted:
            wanted.add(i)
            i = defs[i].parent
    return render_outline((defs[i].line, defs[i].header) for i in wanted)
