"""Search: BM25 over identifier-normalized terms, plus exact symbol lookup.

Documents are definitions (name, signature, docstring, file name) and files (path and the
names they define). ``parseHTTPResponse`` and ``parse_http_response`` both become
``parse http response`` (and the whole word), so either spelling finds either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from indexer.models import ParsedFile, SearchHit

K1 = 1.2
B = 0.75
EXACT_BONUS = 1000.0
_WORD = re.compile(r"[A-Za-z0-9]+")
_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "how", "i", "in", "is", "it", "of", "on", "or", "the", "this", "to", "what", "when", "where", "which", "who", "why", "with"]
)


def word_terms(word: str) -> list[str]:
    """Terms of one alphanumeric word: its camelCase parts and, if split, the whole word."""
    parts = _PARTS.findall(word)
    lower = word.lower()
    if len(parts) > 1:
        return [*(p.lower() for p in parts), lower]
    return [] if lower in _STOPWORDS else [lower]


def terms(text: str) -> list[str]:
    """Identifier-normalized terms: camelCase/snake_case parts, lowercased, plus whole words."""
    out: list[str] = []
    for word in _WORD.findall(text):
        out.extend(word_terms(word))
    return out


class _Vocabulary:
    """Term ids, with the terms of each distinct word worked out once."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._words: dict[str, list[int]] = {}

    def of_text(self, text: str) -> list[int]:
        out: list[int] = []
        words = self._words
        for word in _WORD.findall(text):
            found = words.get(word)
            if found is None:
                found = words[word] = [self.ids.setdefault(t, len(self.ids)) for t in word_terms(word)]
            out.extend(found)
        return out

    def of_name(self, name: str) -> list[int]:
        whole = name.lower().strip("_")
        ids = self.of_text(name)
        if whole:
            ids.append(self.ids.setdefault(whole, len(self.ids)))
        return ids


@dataclass(frozen=True, slots=True)
class _Doc:
    path: str
    line: int
    symbol: str | None
    kind: str | None
    snippet: str
    owner: str | None = None


class SearchIndex:
    """A BM25 index over the definitions and files of one index version."""

    def __init__(self, files: Sequence[str], parsed: Mapping[str, ParsedFile]) -> None:
        docs: list[_Doc] = []
        rows: list[int] = []
        cols: list[int] = []
        vocab = _Vocabulary()
        self._by_name: dict[str, list[int]] = {}
        self._by_lower: dict[str, list[int]] = {}
        for path in files:
            pf = parsed[path]
            path_ids = vocab.of_text(path)
            file_ids = path_ids * 3
            for d in pf.defs:
                name_ids = vocab.of_name(d.name)
                ids = name_ids * 3 + vocab.of_text(d.header) + vocab.of_text(d.doc) + path_ids
                i = len(docs)
                self._by_name.setdefault(d.name, []).append(i)
                self._by_lower.setdefault(d.name.lower(), []).append(i)
                owner = pf.defs[d.parent].name if d.parent >= 0 else None
                docs.append(_Doc(path, d.line, d.name, d.kind, d.header.split("\n", 1)[0].strip(), owner))
                rows.extend([i] * len(ids))
                cols.extend(ids)
                file_ids.extend(name_ids)
            i = len(docs)
            docs.append(_Doc(path, 1, None, None, path))
            rows.extend([i] * len(file_ids))
            cols.extend(file_ids)
        self._vocab = vocab.ids
        self._docs = docs
        n = len(docs)
        if n == 0:
            self._matrix = sp.csc_matrix((0, 0))
            return
        n_terms = len(self._vocab)
        tf = sp.csr_matrix((np.ones(len(rows)), (np.asarray(rows), np.asarray(cols))), shape=(n, n_terms))
        tf.sum_duplicates()
        doc_len = np.asarray(tf.sum(axis=1)).ravel()
        avg = doc_len.mean() or 1.0
        df = np.bincount(tf.indices, minlength=n_terms)
        idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        norm = K1 * (1 - B + B * doc_len / avg)
        data = tf.data.copy()
        row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
        data = data * (K1 + 1) / (data + norm[row_of]) * idf[tf.indices]
        self._matrix = sp.csr_matrix((data, tf.indices, tf.indptr), shape=tf.shape).tocsc()

    def search(self, query: str, k: int = 10) -> list[SearchHit]:
        """The ``k`` best hits for ``query``; exact symbol names come first."""
        if k <= 0 or not self._docs:
            return []
        q_ids = sorted({self._vocab[t] for t in terms(query) if t in self._vocab})
        scores = np.asarray(self._matrix[:, q_ids].sum(axis=1)).ravel() if q_ids \
            else np.zeros(len(self._docs))
        top = float(scores.max()) if len(scores) else 0.0
        exact = self._exact(query)
        for rank, i in enumerate(exact):
            scores[i] = top + EXACT_BONUS - rank * 1e-3
        candidates = np.nonzero(scores > 0)[0]
        if len(candidates) > k:
            part = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[part]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        return [
            SearchHit(path=self._docs[i].path, line=self._docs[i].line, symbol=self._docs[i].symbol,
                      kind=self._docs[i].kind, snippet=self._docs[i].snippet,
                      score=round(float(scores[i]), 4))
            for i in order[:k]
        ]

    def _exact(self, query: str) -> list[int]:
        q = query.strip()
        if not q or any(c.isspace() for c in q):
            return []
        parts = [p for p in re.split(r"\.|::|#|->", q) if p]
        if not parts:
            return []
        name, owner = parts[-1], (parts[-2] if len(parts) > 1 else None)
        hits = self._by_name.get(name) or self._by_lower.get(name.lower()) or []
        if owner is not None:  # Class.method: that class's method first
            hits = sorted(hits, key=lambda i: self._docs[i].owner != owner)
        return hits[:50]
