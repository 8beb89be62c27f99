"""Writes inside one transaction: insert with de-duplication, edit, forget, evict.

Every function here runs inside a ``BEGIN IMMEDIATE`` transaction opened by the store, so
the duplicate check and the insert see the same state in every process. A transaction
bumps the generation once, on its first change of keys, and stamps changed rows with it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np

from agent.memory import db
from agent.memory.config import MemorySettings
from agent.memory.drafts import Draft
from agent.memory.errors import EntryNotFoundError, MemoryInputError
from agent.memory.gate import entry_values
from agent.memory.hashing import key_orders
from agent.memory.keys import (
    KEYS_VERSION,
    EntryKeys,
    QueryKeys,
    entry_keys,
    keys_from_blob,
    keys_to_blob,
)
from agent.memory.live_index import LiveIndex


@dataclass
class Txn:
    """One write transaction: the connection, the index to keep in step, the generation."""

    conn: sqlite3.Connection
    index: LiveIndex
    settings: MemorySettings
    now: float
    generation: int | None = None

    def stamp(self) -> int:
        """The generation of this transaction's changes (bumped on first use)."""
        if self.generation is None:
            self.generation = db.bump_generation(self.conn)
        return self.generation


@dataclass(frozen=True)
class Written:
    id: int
    merged: bool


def keys_for(text: str, settings: MemorySettings) -> EntryKeys:
    """The keys of ``text``; an error if it has no words to be found by."""
    ek = entry_keys(text, settings.max_ngram)
    if ek.n_tokens == 0:
        raise MemoryInputError("text has no words (only punctuation or symbols); "
                               "nothing could ever recall it")
    return ek


def insert(txn: Txn, draft: Draft, ek: EntryKeys, *, near_dedup: bool,
           index_it: bool = True) -> Written:
    """Insert ``draft``, or merge it into an equal or near-equal entry of the same kind."""
    dup = find_duplicate(txn, ek, draft.kind, near=near_dedup)
    if dup is not None:
        _merge(txn, dup, draft)
        return Written(id=dup, merged=True)
    created = draft.created_at if draft.created_at is not None else txn.now
    updated = draft.updated_at if draft.updated_at is not None else txn.now
    cur = txn.conn.execute(
        "INSERT INTO entries (kind, text, norm_hash, keys, n_tokens, sources, confidence, "
        "pinned, created_at, updated_at, last_used_at, use_count, seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (draft.kind, draft.text, ek.norm_hash, keys_to_blob(ek.keys), ek.n_tokens,
         json.dumps(list(draft.sources)), draft.confidence, int(draft.pinned), created,
         updated, draft.last_used_at, draft.use_count, txn.stamp()))
    entry_id = int(cur.lastrowid or 0)
    txn.conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'count'")
    if index_it:
        txn.index.note_written(entry_id, ek.keys, ek.n_tokens)
    return Written(id=entry_id, merged=False)


def find_duplicate(txn: Txn, ek: EntryKeys, kind: str, *, near: bool) -> int | None:
    """An entry of ``kind`` with the same normalized text, or (``near``) almost the same n-grams."""
    row = txn.conn.execute("SELECT id FROM entries WHERE norm_hash = ? AND kind = ? LIMIT 1",
                           (ek.norm_hash, kind)).fetchone()
    if row is not None:
        return int(row[0])
    if not near or ek.keys.size == 0:
        return None
    query = QueryKeys(keys=ek.keys, orders=key_orders(ek.keys), ngrams=[])
    for cand in txn.index.lookup(query, limit=8, eager=False):
        other = txn.conn.execute("SELECT kind, keys FROM entries WHERE id = ?",
                                 (cand.id,)).fetchone()
        if other is None or other[0] != kind:
            continue
        other_keys = keys_from_blob(other[1])
        shared = np.intersect1d(ek.keys, other_keys, assume_unique=True).size
        union = ek.keys.size + other_keys.size - shared
        if union and shared / union >= txn.settings.dedup_threshold:
            return cand.id
    return None


def _merge(txn: Txn, entry_id: int, draft: Draft) -> None:
    sources, confidence, pinned = txn.conn.execute(
        "SELECT sources, confidence, pinned FROM entries WHERE id = ?", (entry_id,)).fetchone()
    merged = tuple(dict.fromkeys([*json.loads(sources), *draft.sources]))
    txn.conn.execute(
        "UPDATE entries SET sources = ?, confidence = ?, pinned = ?, updated_at = ? WHERE id = ?",
        (json.dumps(list(merged)), max(confidence, draft.confidence),
         int(bool(pinned) or draft.pinned), txn.now, entry_id))


def edit(txn: Txn, entry_id: int, *, text: str | None, kind: str | None,
         confidence: float | None) -> None:
    """Change an entry's text, kind or confidence (new text is re-indexed)."""
    if txn.conn.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone() is None:
        raise EntryNotFoundError(f"no memory entry #{entry_id}")
    if text is not None:
        ek = keys_for(text, txn.settings)
        txn.conn.execute(
            "UPDATE entries SET text = ?, norm_hash = ?, keys = ?, n_tokens = ?, updated_at = ?, "
            "seq = ? WHERE id = ?",
            (text, ek.norm_hash, keys_to_blob(ek.keys), ek.n_tokens, txn.now, txn.stamp(),
             entry_id))
        txn.index.note_written(entry_id, ek.keys, ek.n_tokens)
    if kind is not None:
        txn.conn.execute("UPDATE entries SET kind = ?, updated_at = ? WHERE id = ?",
                         (kind, txn.now, entry_id))
    if confidence is not None:
        txn.conn.execute("UPDATE entries SET confidence = ?, updated_at = ? WHERE id = ?",
                         (confidence, txn.now, entry_id))


def forget(txn: Txn, entry_ids: list[int]) -> int:
    """Delete entries (leaving tombstones so other processes drop them too)."""
    gone: list[int] = []
    for entry_id in entry_ids:
        if txn.conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount:
            gone.append(entry_id)
    if gone:
        seq = txn.stamp()
        txn.conn.executemany("INSERT OR REPLACE INTO tombstones (id, seq) VALUES (?, ?)",
                             [(i, seq) for i in gone])
        txn.conn.execute("UPDATE meta SET value = value - ? WHERE key = 'count'", (len(gone),))
        txn.index.note_forgotten(gone)
    return len(gone)


def evict_over_cap(txn: Txn) -> int:
    """Evict the least valuable unpinned entries once the cap is passed.

    Evicts down to 2% under the cap, so a full memory pays for a scan once per 2% of
    inserts rather than on every insert.
    """
    cap = txn.settings.max_entries
    count = int(txn.conn.execute("SELECT value FROM meta WHERE key = 'count'").fetchone()[0])
    if count <= cap:
        return 0
    rows = txn.conn.execute(
        "SELECT id, confidence, use_count, last_used_at, updated_at FROM entries "
        "WHERE pinned = 0 ORDER BY id").fetchall()
    if not rows:
        return 0
    data = np.array([(r[1], r[2], r[3] or 0.0, r[4]) for r in rows], dtype=np.float64)
    values = entry_values(data[:, 0], data[:, 1], np.maximum(data[:, 2], data[:, 3]),
                          np.zeros(len(rows), dtype=bool), txn.now, txn.settings)
    n_evict = min(count - (cap - cap // 50), len(rows))
    lowest = np.argsort(values, kind="stable")[:n_evict]
    return forget(txn, [int(rows[i][0]) for i in lowest.tolist()])


def rekey_if_outdated(txn: Txn) -> int:
    """Recompute every entry's keys if they were made by another normalization version."""
    if not keys_outdated(txn.conn, txn.settings):
        return 0
    rows = txn.conn.execute("SELECT id, text FROM entries").fetchall()
    seq = txn.stamp()
    for entry_id, text in rows:
        ek = entry_keys(text, txn.settings.max_ngram)
        txn.conn.execute(
            "UPDATE entries SET norm_hash = ?, keys = ?, n_tokens = ?, seq = ? WHERE id = ?",
            (ek.norm_hash, keys_to_blob(ek.keys), ek.n_tokens, seq, entry_id))
    txn.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('keys_version', ?)",
                     (keys_label(txn.settings),))
    return len(rows)


def keys_label(settings: MemorySettings) -> str:
    """Normalization version and n-gram order that stored keys were made with."""
    return f"{KEYS_VERSION}/n{settings.max_ngram}"


def keys_outdated(conn: sqlite3.Connection, settings: MemorySettings) -> bool:
    row = conn.execute("SELECT value FROM meta WHERE key = 'keys_version'").fetchone()
    return row is None or str(row[0]) != keys_label(settings)
