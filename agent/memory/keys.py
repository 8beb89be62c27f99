"""From text to lookup keys: normalized tokens, then hashed n-grams of orders 1..3."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from agent.memory.hashing import key_orders, ngram_keys, token_hash
from agent.memory.normalize import normalize, normalize_with_surface

KEYS_VERSION = 1
"""Version of normalization + hashing; stored keys made under another are recomputed."""


@dataclass(frozen=True)
class EntryKeys:
    """What the index stores for one entry: its distinct n-gram keys and its length."""

    keys: np.ndarray
    """Sorted distinct uint64 n-gram keys."""

    n_tokens: int
    """Normalized tokens in the text (the length used to normalize match scores)."""

    norm_hash: str
    """Hash of the normalized token sequence: equal for texts that differ only in form."""


@dataclass(frozen=True)
class QueryKeys:
    """The distinct n-grams of a recall context, with their text for explanations
    (lower-case and split, as first written in the context)."""

    keys: np.ndarray
    orders: np.ndarray
    ngrams: list[str]

    def __len__(self) -> int:
        return int(self.keys.size)


def _hashes(tokens: list[str]) -> np.ndarray:
    cache: dict[str, int] = {}
    out = np.empty(len(tokens), dtype=np.uint64)
    for i, tok in enumerate(tokens):
        h = cache.get(tok)
        if h is None:
            h = cache[tok] = token_hash(tok)
        out[i] = h
    return out


def entry_keys(text: str, max_order: int) -> EntryKeys:
    """The keys of an entry's text."""
    tokens = normalize(text)
    keys, _, _ = ngram_keys(_hashes(tokens), max_order)
    digest = hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=16).hexdigest()
    return EntryKeys(keys=np.unique(keys), n_tokens=len(tokens), norm_hash=digest)


def query_keys(context: str, max_order: int, max_tokens: int) -> QueryKeys:
    """The distinct n-grams of the last ``max_tokens`` normalized tokens of ``context``."""
    tokens, surface = normalize_with_surface(context)
    tokens, surface = tokens[-max_tokens:], surface[-max_tokens:]
    keys, orders, starts = ngram_keys(_hashes(tokens), max_order)
    uniq, first = np.unique(keys, return_index=True)
    # Shown as the context spelled them (first occurrence), not in stemmed form.
    ngrams = [" ".join(surface[int(starts[i]): int(starts[i]) + int(orders[i])]) for i in first]
    return QueryKeys(keys=uniq, orders=key_orders(uniq), ngrams=ngrams)


def keys_to_blob(keys: np.ndarray) -> bytes:
    """Little-endian bytes of a uint64 key array (as stored in the database)."""
    return np.asarray(keys, dtype="<u8").tobytes()


def keys_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8").astype(np.uint64, copy=False)
