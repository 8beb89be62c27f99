"""A brand-new memory with a single entry must still recall it when the context asks."""

from __future__ import annotations

from agent.memory import MemoryStore


def test_one_entry_is_recalled_by_shared_words_and_unrelated_text_is_gated(store: MemoryStore) -> None:
    entry = store.remember("tests run with pytest", "command")
    for context in ("how do I run the tests", "pytest"):
        recalled = store.recall(context, 200, k=3)
        assert [r.entry.id for r in recalled] == [entry.id], context
    assert store.recall("what colour is the sky", 200, k=3) == []
