"""Engram memory: what a project taught the agent, recalled when the context calls for it.

Retrieval follows DeepSeek's Engram ("Conditional Memory via Scalable Lookup"): normalized
tokens, hashed n-grams looked up in multi-head bucket tables (O(1) per n-gram), agreement
across heads against collisions, IDF weighting, and a context gate that drops weak matches.

Exports load on first use: ``agent.config`` imports ``agent.memory.config`` for every
``engram`` command, which must not pay for numpy and the tokenizer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "MemorySettings": "agent.memory.config",
    "Draft": "agent.memory.drafts",
    **{name: "agent.memory.errors" for name in (
        "EntryNotFoundError", "MemoryCorruptError", "MemoryInputError",
        "MemorySchemaError", "MemoryStoreError",
    )},
    **{name: "agent.memory.models" for name in (
        "ENTRY_KINDS", "EntryKind", "ImportReport", "MemoryEntry", "Recalled",
    )},
    "MemoryStore": "agent.memory.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agent.memory' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from agent.memory.config import MemorySettings
    from agent.memory.drafts import Draft
    from agent.memory.errors import (
        EntryNotFoundError,
        MemoryCorruptError,
        MemoryInputError,
        MemorySchemaError,
        MemoryStoreError,
    )
    from agent.memory.models import ENTRY_KINDS, EntryKind, ImportReport, MemoryEntry, Recalled
    from agent.memory.store import MemoryStore
