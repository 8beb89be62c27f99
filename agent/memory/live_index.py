"""The lookup index kept in step with the database, across processes.

It is the persisted multi-head tables (a snapshot at some generation), a mask of their
rows that were edited or forgotten since, and a write buffer of entries written since.
``refresh`` compares the database's generation with the last one seen and loads only what
changed; when another process rebuilt the tables file, the newer file is mapped instead.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import numpy as np

from agent.memory import db
from agent.memory.buffer import WriteBuffer
from agent.memory.config import MemorySettings
from agent.memory.keys import QueryKeys, keys_from_blob
from agent.memory.lookup import Candidate, lookup
from agent.memory.tablefile import load_tables, read_generation, save_tables
from agent.memory.tables import HeadTables, build_tables, settings_fingerprint

log = logging.getLogger(__name__)


class LiveIndex:
    """Tables + stale rows + write buffer for one open memory."""

    def __init__(self, conn: sqlite3.Connection, tables_path: Path, settings: MemorySettings,
                 db_id: str) -> None:
        self._conn = conn
        self._path = tables_path
        self._settings = settings
        self._db_id = db_id
        self._tables: HeadTables | None = None
        self._stale = np.zeros(0, dtype=bool)
        self._n_stale = 0
        self._buffer = WriteBuffer()
        self._seen = -1
        self._file_stamp: tuple[int, int, int] | None = None
        self.refresh()

    @property
    def tables(self) -> HeadTables | None:
        return self._tables

    @property
    def pending(self) -> int:
        """Entries changed since the tables were built."""
        return len(self._buffer) + self._n_stale

    def refresh(self) -> None:
        """Load what other processes (or our own commits) changed since the last look."""
        current = db.generation(self._conn)
        # Another process may have rebuilt the tables file: mapping it empties our buffer.
        reload = self._tables is None or (self.pending > 0 and self._newer_file_on_disk())
        if not reload and current == self._seen:
            return
        if reload:
            self._try_load_file(current)
            if self._tables is None:
                return  # built on first lookup
            if current == self._seen:
                return
        changed = int(self._conn.execute(
            "SELECT COUNT(*) FROM entries WHERE seq > ?", (self._seen,)).fetchone()[0])
        if self.pending + changed < self._rebuild_threshold():
            self._load_changes_since(self._seen)
            self._seen = current
            return
        # Many rows changed elsewhere (a bulk import): one rebuild beats buffering them all.
        self.rebuild()

    def lookup(self, query: QueryKeys, limit: int, *, eager: bool = True) -> list[Candidate]:
        """Best candidates for ``query``; see ``ensure_built`` for ``eager``."""
        self.ensure_built(eager=eager)
        assert self._tables is not None
        return lookup(query, self._tables, self._stale, self._buffer, self._settings, limit,
                      n_stale=self._n_stale)

    def ensure_built(self, *, eager: bool = True) -> None:
        """Rebuild when there are no usable tables or too much sits outside them.

        ``eager`` also rebuilds small memories on any change, so that their recalls go
        through the tables; writers pass False, or each insert would rebuild.
        """
        if self._tables is None:
            self.rebuild()
            return
        pending = self.pending
        if pending == 0:
            return
        total = self._tables.n_rows + len(self._buffer)
        if pending >= self._rebuild_threshold() or (
                eager and total <= self._settings.eager_rebuild_rows):
            self.rebuild()

    def _rebuild_threshold(self) -> int:
        n_rows = 0 if self._tables is None else self._tables.n_rows
        return max(self._settings.compact_min_rows, n_rows // 8)

    def invalidate(self) -> None:
        """Forget everything held in memory (after a rolled-back write); rebuilt on next use."""
        self._tables = None
        self._stale = np.zeros(0, dtype=bool)
        self._n_stale = 0
        self._buffer = WriteBuffer()
        self._seen = -1
        self._file_stamp = None

    def rebuild(self) -> None:
        """Build the tables from every entry in the database and persist them."""
        conn = self._conn
        own_txn = not conn.in_transaction
        if own_txn:
            conn.execute("BEGIN")  # one snapshot: the generation and the rows agree
        try:
            gen = db.generation(conn)
            ids, keys, n_tokens = [], [], []
            for entry_id, blob, n in conn.execute(
                    "SELECT id, keys, n_tokens FROM entries ORDER BY id"):
                ids.append(entry_id)
                keys.append(keys_from_blob(blob))
                n_tokens.append(n)
        finally:
            if own_txn:
                conn.execute("COMMIT")
        tables = build_tables(np.asarray(ids, dtype=np.int64), keys,
                              np.asarray(n_tokens, dtype=np.int64), self._settings,
                              generation=gen, db_id=self._db_id)
        self._install(tables, gen)
        if not conn.in_transaction:  # uncommitted rows must not reach a shared file
            try:
                save_tables(tables, self._path)
                self._file_stamp = self._stamp()
            except OSError as exc:
                log.warning("could not save memory tables to %s: %s", self._path, exc)

    def note_written(self, entry_id: int, keys: np.ndarray, n_tokens: int) -> None:
        """Index an entry this process just wrote (inside its write transaction)."""
        self._mark_stale([entry_id])
        self._buffer.put(entry_id, keys, n_tokens)

    def note_forgotten(self, entry_ids: list[int]) -> None:
        self._mark_stale(entry_ids)
        for entry_id in entry_ids:
            self._buffer.remove(entry_id)

    def mark_seen(self, generation: int) -> None:
        """Our own transaction moved the database to ``generation`` and we indexed it."""
        self._seen = generation

    def _install(self, tables: HeadTables, generation: int) -> None:
        self._tables = tables
        self._stale = np.zeros(tables.n_rows, dtype=bool)
        self._n_stale = 0
        self._buffer = WriteBuffer()
        self._seen = generation

    def _try_load_file(self, current_generation: int) -> bool:
        tables = load_tables(self._path)
        if tables is None or tables.db_id != self._db_id \
                or tables.fingerprint != settings_fingerprint(self._settings) \
                or tables.generation > current_generation:
            return False
        self._install(tables, tables.generation)
        self._file_stamp = self._stamp()
        return True

    def _newer_file_on_disk(self) -> bool:
        stamp = self._stamp()
        if stamp is None or stamp == self._file_stamp:
            return False
        gen = read_generation(self._path)
        return gen is not None and self._tables is not None and gen > self._tables.generation

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self._path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _load_changes_since(self, generation: int) -> None:
        changed = self._conn.execute(
            "SELECT id, keys, n_tokens FROM entries WHERE seq > ?", (generation,)).fetchall()
        for entry_id, blob, n in changed:
            self.note_written(int(entry_id), keys_from_blob(blob), int(n))
        gone = [int(r[0]) for r in self._conn.execute(
            "SELECT id FROM tombstones WHERE seq > ?", (generation,))]
        self.note_forgotten(gone)

    def _mark_stale(self, entry_ids: list[int]) -> None:
        if self._tables is None or not entry_ids:
            return
        rows = self._tables.rows_of(np.asarray(entry_ids, dtype=np.int64))
        rows = rows[rows >= 0]
        if rows.size:
            self._n_stale += int(np.count_nonzero(~self._stale[rows]))
            self._stale[rows] = True
