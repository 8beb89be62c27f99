"""The context a long-context model reads at once: ranked files, full text for the most
relevant, outlines for the rest, within an exact token budget.

Choosing entries uses token counts cached at parse time (file text, outline, and the small
per-entry wrapper counted once); the rendered text is then counted exactly and trimmed if
the pieces did not add up. The budget holds for both the markdown and the XML rendering.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.sax.saxutils import quoteattr

from indexer.models import PackMode
from indexer.tokens import TokenCounter

Format = Literal["markdown", "xml", "json"]
FULL_SHARE = 0.5
"""When not every outline fits, full text may use at most this share of the budget."""

_BACKTICKS = re.compile(r"`{3,}")


@dataclass(frozen=True, slots=True)
class PackEntry:
    path: str
    mode: PackMode
    tokens: int
    """Exact tokens of ``content``."""
    language: str | None
    content: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "mode": self.mode, "tokens": self.tokens,
                "language": self.language, "content": self.content}


@dataclass
class Pack:
    """Ordered entries (most relevant first) and their renderings."""

    name: str
    query: str | None
    budget: int
    entries: list[PackEntry]
    total_tokens: int
    """Exact tokens of ``to_markdown()``."""
    xml_tokens: int
    """Exact tokens of ``to_xml()``."""
    files_indexed: int
    """Files in the index; those not in ``entries`` did not fit."""
    _markdown: str = field(default="", repr=False)
    _xml: str = field(default="", repr=False)

    @property
    def complete(self) -> bool:
        """Every indexed file is here in full."""
        return len(self.entries) == self.files_indexed and all(e.mode == "full" for e in self.entries)

    def to_markdown(self) -> str:
        return self._markdown

    def to_xml(self) -> str:
        return self._xml

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "query": self.query, "budget": self.budget,
            "total_tokens": self.total_tokens, "xml_tokens": self.xml_tokens,
            "files_indexed": self.files_indexed,
            "full": sum(e.mode == "full" for e in self.entries),
            "skeleton": sum(e.mode == "skeleton" for e in self.entries),
            "entries": [e.to_dict() for e in self.entries],
        }

    def render(self, fmt: Format) -> str:
        """The pack in one of ``FORMATS`` (json is ``to_dict`` serialized)."""
        if fmt == "markdown":
            return self.to_markdown()
        if fmt == "xml":
            return self.to_xml()
        import json

        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"


@dataclass(frozen=True, slots=True)
class PackCandidate:
    """A ranked file and what it would cost in each mode."""

    path: str
    language: str | None
    full_tokens: int
    skeleton_tokens: int
    skeleton: str


# -- rendering --------------------------------------------------------------------------
def _fence(content: str) -> str:
    longest = max((len(m) for m in _BACKTICKS.findall(content)), default=2)
    return "`" * max(3, longest + 1)


def _md_header(name: str, entries: Sequence[PackEntry]) -> str:
    full = sum(e.mode == "full" for e in entries)
    return (f"# {name}\n\nRepository pack: {len(entries)} files, {full} in full, "
            f"{len(entries) - full} as outlines (signatures only, bodies elided with ⋮).\n\n")


def _md_entry(e: PackEntry) -> str:
    fence = _fence(e.content)
    label = "" if e.mode == "full" else " (outline)"
    body = e.content if e.content.endswith("\n") or not e.content else e.content + "\n"
    return f"## {e.path}{label}\n\n{fence}{e.language or ''}\n{body}{fence}\n\n"


def _xml_header(name: str, entries: Sequence[PackEntry]) -> str:
    return f"<repository name={quoteattr(name)} files=\"{len(entries)}\">\n"


def _xml_entry(e: PackEntry) -> str:
    body = e.content if e.content.endswith("\n") or not e.content else e.content + "\n"
    lang = f" language={quoteattr(e.language)}" if e.language else ""
    return f"<file path={quoteattr(e.path)} mode=\"{e.mode}\"{lang}>\n{body}</file>\n"


_XML_FOOTER = "</repository>\n"


def render_markdown(name: str, entries: Sequence[PackEntry]) -> str:
    return _md_header(name, entries) + "".join(_md_entry(e) for e in entries)


def render_xml(name: str, entries: Sequence[PackEntry]) -> str:
    return _xml_header(name, entries) + "".join(_xml_entry(e) for e in entries) + _XML_FOOTER


# -- choosing ----------------------------------------------------------------------------
def plan_modes(full: Sequence[int], outline: Sequence[int], budget: int) -> list[PackMode | None]:
    """Per file in rank order: ``full``, ``skeleton`` or None (left out).

    ``full``/``outline`` are costs (a file without a useful outline costs its full text in
    both). If every file fits at least as an outline, cover them all, giving full text to
    each file, in rank order, whose text still leaves room for the outlines of all the rest
    (so the whole repository goes in full when it fits). Otherwise full text may take up to
    ``FULL_SHARE`` of the budget and outlines fill the rest, in rank order.
    """
    n = len(full)
    suffix = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + outline[i]
    modes: list[PackMode | None] = [None] * n
    used = 0
    if suffix[0] <= budget:
        for i in range(n):
            if used + full[i] + suffix[i + 1] <= budget:
                modes[i], used = "full", used + full[i]
            else:
                modes[i], used = "skeleton", used + outline[i]
        return modes
    full_left = int(budget * FULL_SHARE)
    for i in range(n):
        if full[i] <= full_left and used + full[i] <= budget:
            modes[i], used, full_left = "full", used + full[i], full_left - full[i]
        elif used + outline[i] <= budget:
            modes[i], used = "skeleton", used + outline[i]
    return modes


def build_pack(
    name: str,
    query: str | None,
    budget: int,
    ranked: Sequence[PackCandidate],
    read_full: Callable[[PackCandidate], tuple[str, int] | None],
    counter: TokenCounter,
    files_indexed: int,
) -> Pack:
    """Fit ``ranked`` into ``budget`` tokens. ``read_full`` returns a file's current text and
    its exact tokens (None if it vanished)."""
    if budget <= 0 or not ranked:
        return _finish(name, query, max(budget, 0), [], counter, files_indexed)
    # Every entry's wrapper (heading, fences or tags) costs about the same few tokens;
    # the exact count of the rendered text below settles any difference.
    probe = ranked[0]
    wrap = max(
        counter.count(_md_entry(PackEntry(probe.path, "skeleton", 0, probe.language, ""))),
        counter.count(_xml_entry(PackEntry(probe.path, "skeleton", 0, probe.language, ""))),
    ) + 2
    wrap_of = [wrap + (len(c.path) - len(probe.path)) // 3 for c in ranked]
    overhead = max(counter.count(_md_header(name, [])), counter.count(_xml_header(name, [])) + 2) + 8
    outline_ok = [bool(c.skeleton) and c.skeleton_tokens < c.full_tokens for c in ranked]
    full = [c.full_tokens + w for c, w in zip(ranked, wrap_of)]
    outline = [(c.skeleton_tokens if ok else c.full_tokens) + w
               for c, w, ok in zip(ranked, wrap_of, outline_ok)]
    modes = plan_modes(full, outline, budget - overhead)

    entries: list[PackEntry] = []
    for c, mode, ok in zip(ranked, modes, outline_ok):
        if mode == "skeleton" and ok:
            entries.append(PackEntry(c.path, "skeleton", c.skeleton_tokens, c.language, c.skeleton))
        elif mode is not None:
            got = read_full(c)
            if got is not None:
                entries.append(PackEntry(c.path, "full", got[1], c.language, got[0]))
    return _finish(name, query, budget, entries, counter, files_indexed)


def _finish(name: str, query: str | None, budget: int, entries: list[PackEntry],
            counter: TokenCounter, files_indexed: int) -> Pack:
    """Render, count exactly, and drop trailing entries until both renderings fit."""
    while True:
        md = render_markdown(name, entries)
        md_tokens = counter.count(md)
        xml = render_xml(name, entries) if md_tokens <= budget else ""
        xml_tokens = counter.count(xml) if xml else md_tokens
        over = max(md_tokens, xml_tokens) - budget
        if over <= 0 or not entries:
            break
        while entries and over > 0:
            over -= entries.pop().tokens + 4
    if md_tokens > budget:  # not even the header fits
        entries, md, xml, md_tokens, xml_tokens = [], "", "", 0, 0
    return Pack(name=name, query=query, budget=budget, entries=entries, total_tokens=md_tokens,
                xml_tokens=xml_tokens, files_indexed=files_indexed, _markdown=md, _xml=xml)
