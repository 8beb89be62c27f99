from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from agent.memory import (
    MemoryInputError,
    MemorySchemaError,
    MemorySettings,
    MemoryStore,
    MemoryStoreError,
)


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_text_is_refused(store: MemoryStore, text: str) -> None:
    with pytest.raises(MemoryInputError, match="empty"):
        store.remember(text, "fact")
    assert store.count() == 0


def test_text_without_words_is_refused(store: MemoryStore) -> None:
    with pytest.raises(MemoryInputError, match="no words"):
        store.remember("!!! --- ???", "fact")


def test_ten_megabyte_text_is_refused_with_the_limit(store: MemoryStore) -> None:
    with pytest.raises(MemoryInputError, match=r"10,485,760 characters.*at most 4,000"):
        store.remember("x" * (10 << 20), "fact")
    with pytest.raises(MemoryInputError):
        store.edit(store.remember("small", "fact").id, "y" * (10 << 20))
    assert [e.text for e in store.list()] == ["small"]


def test_non_utf8_text_is_refused(store: MemoryStore) -> None:
    # What Python makes of undecodable bytes in argv or file names (surrogateescape).
    bad = b"caf\xe9 au lait".decode("utf-8", errors="surrogateescape")
    with pytest.raises(MemoryInputError, match="not valid UTF-8"):
        store.remember(bad, "fact")
    with pytest.raises(MemoryInputError, match="NUL"):
        store.remember("a\x00b", "fact")
    # A context is never refused: bad characters are replaced.
    assert store.recall(bad, 100) == []


def test_corrupt_database_is_moved_aside_and_rebuilt(repo: Path) -> None:
    path = repo / ".engram" / "memory.sqlite"
    with MemoryStore.open(repo) as s:
        s.remember("Build with make all", "command")
    path.write_bytes(b"this is not an sqlite database" * 200)
    with MemoryStore.open(repo) as s:
        assert len(s.warnings) == 1 and "moved it aside" in s.warnings[0]
        assert s.count() == 0
        assert s.remember("Build with make all", "command").id >= 1
        assert s.recall("build with make", 200)
    aside = list(path.parent.glob("memory.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")


def test_damaged_pages_are_detected_and_readable_rows_recovered(repo: Path) -> None:
    path = repo / ".engram" / "memory.sqlite"
    with MemoryStore.open(repo) as s:
        s.remember_many([_draft(f"note {w} about {w}ing the {w}er") for w in _words(400)])
    data = bytearray(path.read_bytes())
    assert len(data) > 64 * 1024
    page = 4096
    start = (len(data) // page - 2) * page  # a page near the end: the first rows survive
    data[start:start + page] = b"\xa5" * page
    path.write_bytes(bytes(data))
    with MemoryStore.open(repo) as s:
        assert s.warnings and "damaged" in s.warnings[0]
        recovered = s.count()
        assert 0 < recovered < 400
        assert s.recall(s.list(limit=1)[0].text, 500)


def test_newer_schema_is_refused_and_left_alone(repo: Path) -> None:
    with MemoryStore.open(repo) as s:
        s.remember("Build with make all", "command")
    path = repo / ".engram" / "memory.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(MemorySchemaError, match="schema version 99.*reads up to version 1"):
        MemoryStore.open(repo)
    assert path.read_bytes() == before


def test_writer_waits_for_a_busy_database_then_gives_a_clear_error(repo: Path) -> None:
    path = repo / ".engram" / "memory.sqlite"
    with MemoryStore.open(repo) as s:
        s.remember("first", "fact")
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: blocker.execute("COMMIT")).start()
    with MemoryStore.open(repo) as s:  # waits out the 0.3 s lock
        t0 = time.monotonic()
        s.remember("second", "fact")
        assert time.monotonic() - t0 > 0.1
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with MemoryStore.open(repo, MemorySettings(busy_timeout_ms=50)) as s:
            with pytest.raises(MemoryStoreError, match="busy"):
                s.remember("third", "fact")
            assert {e.text for e in s.list()} == {"first", "second"}
    finally:
        blocker.execute("COMMIT")
        blocker.close()


def _words(n: int) -> list[str]:
    letters = "bcdfgklmnprstvz"
    return [a + v + b for a in letters for v in "aeiou" for b in letters][:n]


def _draft(text: str):
    from agent.memory import Draft
    return Draft(text=text, kind="fact", sources=("user",), confidence=1.0, pinned=False)
