"""Multi-head bucket tables: every n-gram key of every entry, posted under H hash heads.

One global bucket space holds ``max_order * heads`` tables, each of a distinct prime size
(as in the Engram paper, so heads collide independently). A bucket's postings are the
rows (dense entry numbers) of the entries with a key hashed there, sorted and distinct.
``offsets[b]:offsets[b+1]`` is bucket ``b``'s slice of ``postings``; its length is a
count-min upper bound of the document frequency of every key that hashes there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from agent.memory.config import MemorySettings
from agent.memory.hashing import HeadLayout, key_orders

_ROW_MASK = np.uint64(0xFFFFFFFF)


def settings_fingerprint(settings: MemorySettings) -> str:
    """The settings that shape the tables; tables built under others are rebuilt."""
    weights = ",".join(f"{w:g}" for w in settings.order_weights[: settings.max_ngram])
    return (f"n{settings.max_ngram}-h{settings.heads}-s{settings.hash_seed}"
            f"-b{settings.buckets_per_ngram:g}-w{weights}")


# A small memory has no evidence of which n-grams are common: without a prior, every n-gram
# of a one-entry memory has df == N and a near-zero weight, so nothing passes the gate.
# The prior counts as that many background entries that lack the n-gram; at the sizes where
# rarity is measurable it is negligible.
_PRIOR_ROWS = 50


def idf(df: np.ndarray, n_rows: int) -> np.ndarray:
    """BM25's inverse document frequency, kept positive (count-min may overestimate df)."""
    df = np.clip(np.asarray(df, dtype=np.float64), 0.0, max(n_rows, 0))
    return np.log1p((n_rows + _PRIOR_ROWS - df + 0.5) / (df + 0.5))


@dataclass
class HeadTables:
    """An immutable snapshot of the index, built from the database at ``generation``."""

    layout: HeadLayout
    offsets: np.ndarray
    postings: np.ndarray
    row_ids: np.ndarray
    """Entry id of each row, ascending."""
    row_len: np.ndarray
    """Normalized tokens per row."""
    row_weight: np.ndarray
    """IDF mass of each row's own n-grams at build time (the denominator of coverage)."""
    generation: int
    db_id: str
    fingerprint: str

    @property
    def n_rows(self) -> int:
        return int(self.row_ids.size)

    @cached_property
    def avg_len(self) -> float:
        """Mean normalized tokens per row (cached: the arrays never change)."""
        return float(self.row_len.mean()) if self.row_len.size else 1.0

    def sizes(self, buckets: np.ndarray) -> np.ndarray:
        """Postings in each global bucket (same shape as ``buckets``)."""
        return self.offsets[buckets + 1].astype(np.int64) - self.offsets[buckets].astype(np.int64)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row of each entry id, or -1 for ids not in this snapshot."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.n_rows == 0:
            return np.full(ids.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.row_ids, ids), self.n_rows - 1)
        return np.where(self.row_ids[pos] == ids, pos, -1)


def empty_tables(settings: MemorySettings, generation: int, db_id: str) -> HeadTables:
    """Tables with no rows (a new memory)."""
    return build_tables(np.zeros(0, np.int64), [], np.zeros(0, np.int64), settings,
                        generation=generation, db_id=db_id)


def build_tables(ids: np.ndarray, key_arrays: list[np.ndarray], n_tokens: np.ndarray,
                 settings: MemorySettings, *, generation: int, db_id: str) -> HeadTables:
    """Build the tables for entries ``ids`` (ascending) with their distinct keys."""
    n_rows = len(ids)
    counts = np.fromiter((a.size for a in key_arrays), dtype=np.int64, count=n_rows)
    flat_keys = (np.concatenate(key_arrays).astype(np.uint64, copy=False) if n_rows
                 else np.zeros(0, np.uint64))
    flat_rows = np.repeat(np.arange(n_rows, dtype=np.uint64), counts)
    orders = key_orders(flat_keys)
    per_order = [np.flatnonzero(orders == n) for n in range(1, settings.max_ngram + 1)]
    sizes = []
    for idx in per_order:
        sorted_keys = np.sort(flat_keys[idx])
        distinct = int(np.count_nonzero(np.diff(sorted_keys))) + 1 if sorted_keys.size else 0
        sizes.append(int(distinct * settings.buckets_per_ngram))
    layout = HeadLayout.create(settings.hash_seed, sizes, settings.heads)

    bucket_counts: list[np.ndarray] = []
    postings: list[np.ndarray] = []
    row_weight = np.zeros(n_rows, dtype=np.float64)
    weights = settings.order_weights
    for order, idx in enumerate(per_order, start=1):
        keys_n, rows_n = flat_keys[idx], flat_rows[idx]
        df_min = np.full(keys_n.size, np.iinfo(np.int64).max, dtype=np.int64)
        for head in range(settings.heads):
            local = layout.table_buckets(keys_n, order, head)
            packed = np.sort((local << np.uint64(32)) | rows_n)
            if packed.size:
                keep = np.empty(packed.size, dtype=bool)
                keep[0] = True
                np.not_equal(packed[1:], packed[:-1], out=keep[1:])
                packed = packed[keep]
            cnt = np.bincount((packed >> np.uint64(32)).astype(np.intp),
                              minlength=int(layout.primes[order - 1, head]))
            postings.append((packed & _ROW_MASK).astype(np.uint32))
            bucket_counts.append(cnt)
            # Count-min: a key's document frequency is at most its smallest bucket.
            np.minimum(df_min, cnt[local.astype(np.intp)], out=df_min)
        w = weights[order - 1] if order - 1 < len(weights) else 1.0
        row_weight += np.bincount(rows_n.astype(np.intp), weights=idf(df_min, n_rows) * w,
                                  minlength=n_rows)

    all_counts = np.concatenate(bucket_counts)
    total = int(all_counts.sum())
    dtype = np.uint32 if total < 2**32 else np.uint64
    offsets = np.zeros(all_counts.size + 1, dtype=dtype)
    offsets[1:] = np.cumsum(all_counts)
    return HeadTables(
        layout=layout,
        offsets=offsets,
        postings=np.concatenate(postings) if postings else np.zeros(0, np.uint32),
        row_ids=np.asarray(ids, dtype=np.int64),
        row_len=np.asarray(n_tokens, dtype=np.float32),
        row_weight=row_weight.astype(np.float32),
        generation=generation,
        db_id=db_id,
        fingerprint=settings_fingerprint(settings),
    )
