"""What the model reads besides the conversation: the repository (whole or navigated),
recalled memory and pinned conventions, and compaction of long conversations."""

from __future__ import annotations

from agent.context.compaction import Compactor, TokenTally
from agent.context.memory_context import MemoryContext, gather_memory
from agent.context.prompt import PromptParts, assemble
from agent.context.repo_context import RepoContext, build_repo_context

__all__ = [
    "Compactor",
    "TokenTally",
    "MemoryContext",
    "PromptParts",
    "RepoContext",
    "assemble",
    "build_repo_context",
    "gather_memory",
]
