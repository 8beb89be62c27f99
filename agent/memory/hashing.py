"""Deterministic 64-bit hashing, n-gram keys and the multi-head bucket layout.

Python's ``hash()`` is salted per process, so keys are built from blake2b token hashes
mixed with splitmix64 in numpy; the same text gives the same keys in every process.
An n-gram key carries its order (1..3) in its two top bits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

U64 = np.uint64
_GOLDEN = U64(0x9E3779B97F4A7C15)
_MIX1 = U64(0xBF58476D1CE4E5B9)
_MIX2 = U64(0x94D049BB133111EB)
_ORDER_SHIFT = U64(62)
_KEY_MASK = U64((1 << 62) - 1)
MIN_BUCKETS = 1021


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer over a uint64 array (wrapping arithmetic, a new array)."""
    x = x + _GOLDEN
    x = (x ^ (x >> U64(30))) * _MIX1
    x = (x ^ (x >> U64(27))) * _MIX2
    return x ^ (x >> U64(31))


def token_hash(token: str) -> int:
    """A stable 64-bit hash of one normalized token."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


def ngram_keys(token_hashes: np.ndarray,
               max_order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys of every n-gram (orders 1..max_order) of one token sequence.

    Returns ``(keys, orders, starts)``: one key per n-gram occurrence, in order of order
    then position, with the n-gram's order and the position of its first token.
    """
    t = np.asarray(token_hashes, dtype=U64)
    keys, orders, starts = [], [], []
    combined = t
    for order in range(1, max_order + 1):
        if order > 1:
            combined = splitmix64(combined[:-1] * _GOLDEN + t[order - 1:])
        if combined.size == 0:
            break
        keys.append((combined & _KEY_MASK) | U64(order - 1) << _ORDER_SHIFT)
        orders.append(np.full(combined.size, order, dtype=np.int8))
        starts.append(np.arange(combined.size, dtype=np.int32))
    if not keys:
        return np.zeros(0, U64), np.zeros(0, np.int8), np.zeros(0, np.int32)
    return np.concatenate(keys), np.concatenate(orders), np.concatenate(starts)


def key_orders(keys: np.ndarray) -> np.ndarray:
    """The n-gram order (1..3) encoded in each key."""
    return (keys >> _ORDER_SHIFT).astype(np.int64) + 1


def is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for 64-bit integers."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    for p in small:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def primes_from(start: int, count: int) -> list[int]:
    """The ``count`` smallest primes that are >= ``start``."""
    found: list[int] = []
    n = max(2, start)
    while len(found) < count:
        if is_prime(n):
            found.append(n)
        n += 1
    return found


@dataclass(frozen=True)
class HeadLayout:
    """Where each (order, head) table lives in one global bucket space.

    ``seeds``, ``primes`` and ``bases`` are ``[max_order, heads]`` uint64 arrays: head ``h``
    of order ``n`` hashes a key with seed ``seeds[n-1, h]`` into ``primes[n-1, h]`` buckets
    that start at global bucket ``bases[n-1, h]``.
    """

    seeds: np.ndarray
    primes: np.ndarray
    bases: np.ndarray

    @property
    def heads(self) -> int:
        return int(self.seeds.shape[1])

    @property
    def max_order(self) -> int:
        return int(self.seeds.shape[0])

    @property
    def n_buckets(self) -> int:
        return int(self.bases[-1, -1] + self.primes[-1, -1])

    @classmethod
    def create(cls, hash_seed: int, table_sizes: list[int], heads: int) -> HeadLayout:
        """Seeds derived from ``hash_seed``; each head gets its own prime >= its order's size."""
        max_order = len(table_sizes)
        grid = np.arange(max_order * heads, dtype=U64).reshape(max_order, heads)
        seeds = splitmix64(splitmix64(np.full_like(grid, hash_seed)) ^ grid)
        primes = np.array([primes_from(max(MIN_BUCKETS, size), heads) for size in table_sizes],
                          dtype=U64)
        flat = primes.reshape(-1)
        bases = np.concatenate([[0], np.cumsum(flat)[:-1]]).astype(U64).reshape(primes.shape)
        return cls(seeds=seeds, primes=primes, bases=bases)

    def buckets(self, keys: np.ndarray) -> np.ndarray:
        """Global bucket of every key under every head of its order: ``int64[len(keys), heads]``."""
        keys = np.asarray(keys, dtype=U64)
        row = np.minimum(keys >> _ORDER_SHIFT, U64(self.max_order - 1)).astype(np.intp)
        mixed = splitmix64(keys[:, None] ^ self.seeds[row])
        return (mixed % self.primes[row] + self.bases[row]).astype(np.int64)

    def table_buckets(self, keys: np.ndarray, order: int, head: int) -> np.ndarray:
        """Local bucket (0..prime-1) of keys of one order under one head (for building)."""
        mixed = splitmix64(np.asarray(keys, dtype=U64) ^ self.seeds[order - 1, head])
        return mixed % self.primes[order - 1, head]
