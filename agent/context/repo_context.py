"""The repository as the model sees it: whole-repo mode or navigator mode.

Whole-repo: the indexer's pack holds every file in full within the model's share of the
window (1M-token models). Navigator: a ranked repository map plus the most relevant files in
full; the model reads more with its tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.settings import AgentSettings
from indexer import Index, Pack

Mode = Literal["whole-repo", "navigator"]


@dataclass(frozen=True)
class RepoContext:
    """The repository part of the system prompt."""

    mode: Mode
    text: str
    tokens: int
    files: list[str]
    """Files shown in full."""


def build_repo_context(index: Index, task: str, window: int, settings: AgentSettings) -> RepoContext:
    """Whole-repo when the full pack fits ``settings.whole_repo_share`` of ``window`` (or the
    mode is forced), navigator otherwise."""
    forced = settings.context_mode
    if forced != "navigator":
        budget = int(window * settings.whole_repo_share)
        pack = index.pack(task, budget)
        if pack.complete or forced == "whole-repo":
            return RepoContext("whole-repo", pack.to_markdown(), pack.total_tokens,
                               [e.path for e in pack.entries if e.mode == "full"])
    return _navigator(index, task, settings)


def _navigator(index: Index, task: str, settings: AgentSettings) -> RepoContext:
    repo_map = index.repo_map(settings.map_tokens, query=task) if settings.map_tokens else None
    files_text, files = "", []
    if settings.files_tokens:
        files_text, files = _full_entries(index.pack(task, settings.files_tokens))
    parts = []
    if repo_map is not None and repo_map.text.strip():
        parts.append("## Repository map (most relevant definitions)\n" + repo_map.text.strip())
    if files_text:
        parts.append("## Most relevant files\n" + files_text)
    if not parts:
        parts.append("(the repository has no indexed files)")
    text = "\n\n".join(parts)
    return RepoContext("navigator", text, index.counter.count(text), files)


def _full_entries(pack: Pack) -> tuple[str, list[str]]:
    chunks, files = [], []
    for entry in pack.entries:
        if entry.mode != "full":
            continue
        fence = "````" if "```" in entry.content else "```"
        chunks.append(f"### {entry.path}\n{fence}{entry.language or ''}\n{entry.content.rstrip()}\n{fence}")
        files.append(entry.path)
    return "\n\n".join(chunks), files
