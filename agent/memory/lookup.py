"""Candidate lookup: gather entries from every head and keep the n-grams the heads agree on.

For each n-gram of the context, every head of its order names one bucket. The smallest
bucket bounds the n-gram's document frequency (count-min), which gives its IDF; buckets
much larger than that smallest one are polluted by a frequent colliding key and are not
read. An entry counts as holding the n-gram only if *every* head that was read lists it
(a collision in one head is not confirmed by the others). Rare n-grams are read first,
within a budget of postings, so frequent ones cannot make a lookup slow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent.memory.buffer import WriteBuffer
from agent.memory.config import MemorySettings
from agent.memory.keys import QueryKeys
from agent.memory.tables import HeadTables, idf

_G_BITS = np.uint64(14)  # query n-grams per lookup < 16384 (see _MAX_QUERY_NGRAMS)
_G_MASK = np.uint64((1 << 14) - 1)
_MAX_QUERY_NGRAMS = 1 << 14
_MIN_MAX_DF = 256


@dataclass(frozen=True)
class Candidate:
    """An entry that shares n-grams with the context."""

    id: int
    score: float
    """BM25-style match score (each n-gram counted once, IDF-weighted, length-normalized)."""
    match: float
    """Matched IDF mass."""
    coverage: float
    """Share of the entry's own IDF mass that the context matched (0..1)."""
    matched: tuple[int, ...]
    """Indices into the query's n-grams, highest weight first."""


@dataclass(frozen=True)
class _Matches:
    ids: np.ndarray
    match: np.ndarray
    length: np.ndarray
    own_weight: np.ndarray
    pair_ids: np.ndarray
    pair_ngrams: np.ndarray


def lookup(query: QueryKeys, tables: HeadTables, stale_rows: np.ndarray, buffer: WriteBuffer,
           settings: MemorySettings, limit: int, n_stale: int | None = None) -> list[Candidate]:
    """The ``limit`` best-matching entries for ``query`` across the tables and the buffer.

    ``stale_rows`` marks table rows edited or forgotten since the build (``n_stale`` of them).
    """
    if len(query) == 0:
        return []
    if len(query) > _MAX_QUERY_NGRAMS:
        raise ValueError(f"at most {_MAX_QUERY_NGRAMS} n-grams per lookup")
    buckets = tables.layout.buckets(query.keys)
    sizes = tables.sizes(buckets)
    df_tables = sizes.min(axis=1)
    df_buffer = buffer.df(query.keys)
    if n_stale is None:
        n_stale = int(np.count_nonzero(stale_rows))
    n_live = tables.n_rows - n_stale + len(buffer)
    if n_live <= 0:
        return []
    df = df_tables + df_buffer
    max_df = max(settings.max_df_fraction * n_live, _MIN_MAX_DF)
    usable = (df > 0) & (df <= max_df)
    weights = np.asarray(settings.order_weights + [1.0] * 3, dtype=np.float64)
    weight = idf(np.maximum(df, 1), n_live) * weights[query.orders - 1]
    weight = np.where(usable, weight, 0.0)

    parts = [m for m in (
        _match_tables(tables, buckets, sizes, df_tables, usable, weight, stale_rows, settings),
        _match_buffer(query, buffer, df_buffer, usable, weight, tables, n_live, settings),
    ) if m is not None and m.ids.size]
    if not parts:
        return []
    ids = np.concatenate([p.ids for p in parts])
    match = np.concatenate([p.match for p in parts])
    length = np.concatenate([p.length for p in parts])
    own = np.concatenate([p.own_weight for p in parts])
    avg_len = _avg_len(tables, buffer)
    norm = (1 - settings.bm25_b) + settings.bm25_b * length / avg_len
    k1 = settings.bm25_k1
    score = match * (k1 + 1) / (1 + k1 * norm)
    if score.size > limit:
        part = np.argpartition(-score, limit - 1)[:limit]
        top = part[np.argsort(-score[part], kind="stable")]
    else:
        top = np.argsort(-score, kind="stable")
    missing = [i for i in top.tolist() if np.isnan(own[i])]
    if missing:  # buffered entries: their own IDF mass, for the winners only
        own[missing] = _own_weights([buffer.keys_of(int(ids[i])) for i in missing], tables,
                                    buffer, n_live, settings)
    pair_ids = np.concatenate([p.pair_ids for p in parts])
    pair_ngrams = np.concatenate([p.pair_ngrams for p in parts])
    wanted = np.sort(ids[top])
    pos = np.minimum(np.searchsorted(wanted, pair_ids), wanted.size - 1)
    sel = wanted[pos] == pair_ids
    by_id: dict[int, list[int]] = {}
    order = np.argsort(-weight[pair_ngrams[sel]], kind="stable")
    for i, g in zip(pair_ids[sel][order].tolist(), pair_ngrams[sel][order].tolist()):
        by_id.setdefault(i, []).append(g)
    return [
        Candidate(id=int(ids[i]), score=float(score[i]), match=float(match[i]),
                  coverage=float(min(1.0, match[i] / own[i])) if own[i] > 0 else 1.0,
                  matched=tuple(by_id.get(int(ids[i]), ())))
        for i in top.tolist()
    ]


def _avg_len(tables: HeadTables, buffer: WriteBuffer) -> float:
    n_t, n_b = tables.n_rows, len(buffer)
    if n_t + n_b == 0:
        return 1.0
    total = tables.avg_len * n_t + buffer.avg_len() * n_b
    return max(total / (n_t + n_b), 1.0)


def _match_tables(tables: HeadTables, buckets: np.ndarray, sizes: np.ndarray,
                  df_min: np.ndarray, usable: np.ndarray, weight: np.ndarray,
                  stale_rows: np.ndarray, settings: MemorySettings) -> _Matches | None:
    if tables.n_rows == 0:
        return None
    # A head whose bucket is far larger than the smallest one holds a frequent colliding
    # key: reading it would cost much and prove nothing, so agreement is over the others.
    read = (sizes <= 2 * df_min[:, None] + 8) & (usable & (df_min > 0))[:, None]
    if settings.agreement_heads < sizes.shape[1]:
        # Only the cleanest heads (smallest buckets) are read; see MemorySettings.
        smallest = np.argsort(sizes, axis=1, kind="stable")[:, :settings.agreement_heads]
        keep = np.zeros_like(read)
        np.put_along_axis(keep, smallest, True, axis=1)
        read &= keep
    cost = np.where(read, sizes, 0).sum(axis=1)
    rarest_first = np.argsort(-weight, kind="stable")
    within = np.cumsum(cost[rarest_first]) <= settings.max_postings
    chosen = np.zeros(len(weight), dtype=bool)
    chosen[rarest_first[within]] = True
    read &= chosen[:, None]
    g_idx, h_idx = np.nonzero(read)
    if g_idx.size == 0:
        return None
    lens = sizes[g_idx, h_idx]
    starts = tables.offsets[buckets[g_idx, h_idx]].astype(np.int64)
    total = int(lens.sum())
    if total == 0:
        return None
    # Positions of every posting of every chosen bucket, without a Python loop.
    shift = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    rows = tables.postings[shift + np.arange(total, dtype=np.int64)].astype(np.uint64)
    g_rep = np.repeat(g_idx.astype(np.uint64), lens)
    # One sort by (row, n-gram) groups everything: a row appears at most once per bucket
    # (postings are distinct), so a run's length is the number of heads that agree.
    packed = np.sort((rows << _G_BITS) | g_rep)
    run_start = np.flatnonzero(np.concatenate(([True], packed[1:] != packed[:-1])))
    heads_agreeing = np.diff(np.append(run_start, packed.size))
    pairs = packed[run_start]
    pair_g = (pairs & _G_MASK).astype(np.int64)
    pair_row = (pairs >> _G_BITS).astype(np.int64)
    required = read.sum(axis=1)
    ok = (heads_agreeing >= required[pair_g]) & ~stale_rows[pair_row]
    pair_g, pair_row = pair_g[ok], pair_row[ok]
    if pair_row.size == 0:
        return None
    # Pairs are sorted by row: sum each row's matched weight over its run.
    row_start = np.flatnonzero(np.concatenate(([True], pair_row[1:] != pair_row[:-1])))
    rows_u = pair_row[row_start]
    match = np.add.reduceat(weight[pair_g], row_start)
    return _Matches(
        ids=tables.row_ids[rows_u].astype(np.int64), match=match,
        length=tables.row_len[rows_u].astype(np.float64),
        own_weight=tables.row_weight[rows_u].astype(np.float64),
        pair_ids=tables.row_ids[pair_row].astype(np.int64), pair_ngrams=pair_g,
    )


def _match_buffer(query: QueryKeys, buffer: WriteBuffer, df_buffer: np.ndarray,
                  usable: np.ndarray, weight: np.ndarray, tables: HeadTables, n_live: int,
                  settings: MemorySettings) -> _Matches | None:
    if len(buffer) == 0:
        return None
    hits = np.flatnonzero((df_buffer > 0) & usable)
    pair_ids: list[int] = []
    pair_g: list[int] = []
    keys = query.keys.tolist()
    for g in hits.tolist():
        for entry_id in buffer.ids_with(keys[g]):
            pair_ids.append(entry_id)
            pair_g.append(g)
    if not pair_ids:
        return None
    pid = np.asarray(pair_ids, dtype=np.int64)
    pg = np.asarray(pair_g, dtype=np.int64)
    ids_u, inverse = np.unique(pid, return_inverse=True)
    match = np.bincount(inverse, weights=weight[pg], minlength=ids_u.size)
    own = np.full(ids_u.size, np.nan)  # filled in for the top candidates only
    length = np.array([buffer.n_tokens_of(i) for i in ids_u.tolist()], dtype=np.float64)
    return _Matches(ids=ids_u, match=match, length=length, own_weight=own,
                    pair_ids=pid, pair_ngrams=pg)


def _own_weights(key_sets: list[np.ndarray], tables: HeadTables, buffer: WriteBuffer,
                 n_live: int, settings: MemorySettings) -> np.ndarray:
    """The IDF mass of each key set (the denominator of coverage), in one vectorized pass."""
    sizes = np.array([k.size for k in key_sets], dtype=np.int64)
    if sizes.sum() == 0:
        return np.zeros(len(key_sets))
    keys = np.concatenate(key_sets)
    df = tables.sizes(tables.layout.buckets(keys)).min(axis=1) + buffer.df(keys)
    orders = (keys >> np.uint64(62)).astype(np.int64)
    weights = np.asarray(settings.order_weights + [1.0] * 3, dtype=np.float64)
    per_key = idf(np.maximum(df, 1), max(n_live, 1)) * weights[orders]
    owners = np.repeat(np.arange(len(key_sets)), sizes)
    return np.bincount(owners, weights=per_key, minlength=len(key_sets))
