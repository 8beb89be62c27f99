"""Personalized PageRank over the reference graph, and the rank each definition inherits.

Power iteration on a scipy.sparse transition matrix; the teleport vector carries the
personalization (focus files, files that define or are named by the query). A file's rank
then flows along its out-edges to the (name, definer) pairs it uses, as in aider's repo
map, so definitions that important files use rank high.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from indexer.graph import RefGraph

DAMPING = 0.85
FOCUS_USE_FACTOR = 50.0
"""Edges leaving a focus file weigh this much more (what you work on decides relevance)."""
MENTIONED_NAME_FACTOR = 10.0


@dataclass(frozen=True)
class Ranking:
    file_rank: np.ndarray
    """PageRank of each file (sums to 1)."""
    pair_rank: np.ndarray
    """Rank of each (name, definer) pair of the graph."""


def rank(
    graph: RefGraph,
    personalization: Mapping[int, float] | None = None,
    focus: frozenset[int] = frozenset(),
    mentioned: frozenset[int] = frozenset(),
    *,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> Ranking:
    """Rank files and definitions; ``personalization`` maps file index -> extra teleport weight,
    ``focus`` are file indices, ``mentioned`` name indices."""
    n = graph.n_files
    if n == 0:
        return Ranking(np.zeros(0), np.zeros(len(graph.pair_file)))
    w = graph.weight
    if focus and len(w):
        w = w * np.where(np.isin(graph.src, np.fromiter(focus, dtype=np.int64)), FOCUS_USE_FACTOR, 1.0)
    if mentioned and len(w):
        w = w * np.where(np.isin(graph.ident, np.fromiter(mentioned, dtype=np.int64)), MENTIONED_NAME_FACTOR, 1.0)
    out_w = np.bincount(graph.src, weights=w, minlength=n) if len(w) else np.zeros(n)

    teleport = np.full(n, 1.0 / n)
    if personalization:
        extra = np.zeros(n)
        for i, v in personalization.items():
            extra[i] += v
        if extra.sum() > 0:
            # The focus carries ten times the rest of the repository together.
            teleport = teleport + 10.0 * extra / extra.sum()
            teleport /= teleport.sum()

    safe_out = np.where(out_w > 0, out_w, 1.0)
    m = sp.csr_matrix((w / safe_out[graph.src], (graph.dst, graph.src)), shape=(n, n)) if len(w) \
        else sp.csr_matrix((n, n))
    dangling = out_w == 0
    r = teleport.copy()
    for _ in range(max_iter):
        nxt = DAMPING * (m @ r + r[dangling].sum() * teleport) + (1.0 - DAMPING) * teleport
        done = np.abs(nxt - r).sum() < tol
        r = nxt
        if done:
            break
    contrib = r[graph.src] * w / safe_out[graph.src] if len(w) else np.zeros(0)
    pair_rank = np.bincount(graph.pair, weights=contrib, minlength=len(graph.pair_file)) \
        if len(w) else np.zeros(len(graph.pair_file))
    return Ranking(file_rank=r, pair_rank=pair_rank)
