"""Engram memory in the prompt: pinned conventions (always) and what the task recalls."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from agent.memory import MemoryStore, MemoryStoreError

log = logging.getLogger("engram.agent")


@dataclass
class MemoryContext:
    conventions: list[str] = field(default_factory=list)
    """Pinned entries (AGENTS.md, CLAUDE.md, ``engram memory pin``): in every prompt."""
    memories: list[str] = field(default_factory=list)
    """Entries the task recalled, best first, within the recall budget."""
    warnings: list[str] = field(default_factory=list)


def gather_memory(store: MemoryStore | None, task: str, budget_tokens: int) -> MemoryContext:
    """Import the instruction files, then read the pinned entries and recall for ``task``.

    A memory that cannot be read never stops a task: the problem becomes a warning.
    """
    out = MemoryContext()
    if store is None:
        return out
    try:
        store.import_instruction_files()
        pinned = store.list(pinned=True)
        out.conventions = [e.text for e in pinned]
        pinned_ids = {e.id for e in pinned}
        recalled = store.recall(task, budget_tokens)
        out.memories = [f"[{r.entry.kind}] {r.entry.text}" for r in recalled
                        if r.entry.id not in pinned_ids]
    except MemoryStoreError as exc:
        out.warnings.append(f"memory unavailable for this task: {exc}")
    out.warnings.extend(store.warnings)
    return out
