from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from agent.memory import (
    EntryNotFoundError,
    MemoryInputError,
    MemorySettings,
    MemoryStore,
)

FACTS = [
    ("Run the tests with `python -m pytest -q tests/agent`", "command"),
    ("The HTTPAdapter retries connection errors three times before giving up", "fact"),
    ("Use ruff for linting and formatting; never black", "convention"),
    ("Session cookies are persisted across redirects by SessionRedirectMixin", "fact"),
    ("test_proxy_auth failed because NO_PROXY was set in the environment", "failure"),
    ("Fixed test_proxy_auth by clearing NO_PROXY in the fixture", "fix"),
    ("src/app.py holds the CLI entry point main()", "file_summary"),
    ("The user prefers small commits with imperative messages", "preference"),
]


def _fill(store: MemoryStore) -> dict[str, int]:
    return {text: store.remember(text, kind).id for text, kind in FACTS}


def test_remember_get_list_and_kinds(store: MemoryStore) -> None:
    ids = _fill(store)
    assert store.count() == len(FACTS)
    e = store.get(ids[FACTS[0][0]])
    assert (e.kind, e.sources, e.pinned, e.use_count) == ("command", ("user",), False, 0)
    assert [x.kind for x in store.list(kind="fix")] == ["fix"]
    with pytest.raises(MemoryInputError, match="unknown kind"):
        store.remember("x y", "gossip")
    with pytest.raises(MemoryInputError, match="unknown source"):
        store.remember("x y", "fact", source="rumour:abc")
    with pytest.raises(EntryNotFoundError):
        store.get(9999)


def test_recall_explains_gates_and_budgets(store: MemoryStore) -> None:
    ids = _fill(store)
    got = store.recall("the proxy auth test fails, NO_PROXY is set", budget_tokens=1000)
    assert {r.entry.id for r in got[:2]} == {ids[FACTS[4][0]], ids[FACTS[5][0]]}
    assert "no proxy" in got[0].matched
    assert all(r.gate >= store.settings.gate_threshold for r in got)
    # An unrelated context recalls nothing: weak matches stay under the gate.
    assert store.recall("kubernetes helm chart yaml deployment", budget_tokens=1000) == []
    # The budget bounds the tokens returned, and k the count.
    tight = store.recall("the proxy auth test fails, NO_PROXY is set", budget_tokens=got[0].tokens)
    assert sum(r.tokens for r in tight) <= got[0].tokens and len(tight) == 1
    assert len(store.recall("proxy auth NO_PROXY test", 1000, k=1)) == 1


def test_recall_counts_uses(store: MemoryStore) -> None:
    ids = _fill(store)
    target = ids[FACTS[1][0]]
    store.recall("http adapter retries on connection errors", 500)
    store.recall("http adapter retries on connection errors", 500, record_use=False)
    e = store.get(target)
    assert e.use_count == 1 and e.last_used_at is not None


def test_near_duplicates_merge_sources(store: MemoryStore) -> None:
    a = store.remember("Run the tests with python -m pytest -q tests/agent", "command")
    b = store.remember("run the tests with `python -m pytest -q tests/agent`!", "command",
                       source="session:s1")
    c = store.remember("Run the tests with python -m pytest -q tests/agent/memory please",
                       "command", source="commit:abc123", confidence=0.5)
    assert a.id == b.id == c.id
    assert store.get(a.id).sources == ("user", "session:s1", "commit:abc123")
    assert store.count() == 1
    # A different kind is a different entry; so is a different fact.
    assert store.remember("Run the tests with python -m pytest -q tests/agent", "fact").id != a.id
    assert store.remember("Run the linters with ruff check", "command").id != a.id


def test_edit_forget_pin(store: MemoryStore) -> None:
    ids = _fill(store)
    target = ids[FACTS[2][0]]
    store.edit(target, "Use mypy --strict for type checking")
    assert store.recall("ruff linting formatting black", 500) == []
    got = store.recall("type checking with mypy strict", 500)
    assert got and got[0].entry.id == target
    assert store.pin(target).pinned and not store.pin(target, False).pinned
    forgotten = store.forget(target)
    assert forgotten.text.startswith("Use mypy")
    assert store.recall("type checking with mypy strict", 500) == []
    with pytest.raises(EntryNotFoundError):
        store.forget(target)
    with pytest.raises(EntryNotFoundError):
        store.edit(target, "again")


def test_changes_survive_reopen_and_use_saved_tables(repo: Path) -> None:
    with MemoryStore.open(repo) as s:
        ids = _fill(s)
        s.recall("session cookies redirects", 500)  # builds and saves the tables
    assert (repo / ".engram" / "memory.tables").is_file()
    with MemoryStore.open(repo) as s:
        assert s.stats()["table_rows"] == len(FACTS) and s.stats()["pending"] == 0
        got = s.recall("cookies lost on redirect in a session", 500)
        assert got[0].entry.id == ids[FACTS[3][0]]


def test_write_buffer_serves_large_memories_between_rebuilds(repo: Path) -> None:
    settings = MemorySettings(eager_rebuild_rows=0, compact_min_rows=1000)
    with MemoryStore.open(repo, settings) as s:
        _fill(s)
        s.compact()
        fresh = s.remember("The staging database lives on port 5433", "fact")
        old = s.list(kind="convention")[0]
        s.edit(old.id, "Prefer dataclasses over namedtuples")
        assert s.stats()["pending"] >= 2  # not rebuilt: served from the buffer
        assert s.recall("which port is the staging database on", 500)[0].entry.id == fresh.id
        assert s.recall("dataclasses or namedtuples", 500)[0].entry.id == old.id
        assert s.recall("ruff linting formatting black", 500) == []


def test_size_cap_evicts_least_valuable_unpinned(repo: Path) -> None:
    settings = MemorySettings(max_entries=10)
    with MemoryStore.open(repo, settings) as s:
        keep = s.remember("Pinned rule: never push to main", "convention", pinned=True)
        used = s.remember("Build with make all", "command")
        for i in range(12):
            s.remember(f"note number {i} about topic{i} and subject{i}", "fact", confidence=0.3)
        s.recall("build with make all", 500)
        assert s.count() <= 10
        left = {e.id for e in s.list()}
        assert keep.id in left and used.id in left


def test_unused_entries_decay(repo: Path) -> None:
    now = time.time()
    stale = {"text": "Deploy with the release script in tools", "kind": "command",
             "created_at": now - 400 * 86400, "updated_at": now - 400 * 86400}
    jsonl = repo / "old.jsonl"
    jsonl.write_text(json.dumps(stale) + "\n")
    with MemoryStore.open(repo) as s:
        _fill(s)
        s.import_jsonl(jsonl)
        fresh = s.remember("Deploy with the release script in scripts", "fact")
        got = s.recall("deploy with the release script", 500)
        assert [r.entry.id for r in got] == [fresh.id, fresh.id - 1]
        assert got[0].score > got[1].score * 1.5  # same match, half the recency


def test_disabled_memory_recalls_nothing(repo: Path) -> None:
    with MemoryStore.open(repo, MemorySettings(enabled=False)) as s:
        s.remember("Run the tests with pytest", "command")
        assert s.recall("run the tests", 500) == []
