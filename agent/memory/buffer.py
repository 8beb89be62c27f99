"""The write buffer: entries changed since the tables were built (an LSM-style memtable).

Rebuilding the bucket tables on every write would cost O(memory size); instead new and
edited entries sit here, indexed by their exact n-gram keys, until the next rebuild folds
them into the multi-head tables. Kept small by the rebuild policy (see ``MemorySettings``).
"""

from __future__ import annotations

import numpy as np


class WriteBuffer:
    """Exact key -> entry ids for the entries written since the last table build."""

    def __init__(self) -> None:
        self._keys: dict[int, np.ndarray] = {}
        self._n_tokens: dict[int, int] = {}
        self._index: dict[int, set[int]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, entry_id: int) -> bool:
        return entry_id in self._keys

    def put(self, entry_id: int, keys: np.ndarray, n_tokens: int) -> None:
        """Add an entry, replacing its previous keys if it was already here."""
        self.remove(entry_id)
        self._keys[entry_id] = keys
        self._n_tokens[entry_id] = n_tokens
        for k in keys.tolist():
            self._index.setdefault(k, set()).add(entry_id)

    def remove(self, entry_id: int) -> None:
        keys = self._keys.pop(entry_id, None)
        self._n_tokens.pop(entry_id, None)
        if keys is None:
            return
        for k in keys.tolist():
            ids = self._index.get(k)
            if ids is not None:
                ids.discard(entry_id)
                if not ids:
                    del self._index[k]

    def df(self, keys: np.ndarray) -> np.ndarray:
        """Exact number of buffered entries holding each key."""
        if not self._index:
            return np.zeros(len(keys), dtype=np.int64)
        index = self._index
        return np.fromiter((len(index.get(k, ())) for k in keys.tolist()), dtype=np.int64,
                           count=len(keys))

    def ids_with(self, key: int) -> set[int]:
        return self._index.get(key, set())

    def keys_of(self, entry_id: int) -> np.ndarray:
        return self._keys[entry_id]

    def n_tokens_of(self, entry_id: int) -> int:
        return self._n_tokens[entry_id]

    def avg_len(self) -> float:
        return float(np.mean(list(self._n_tokens.values()))) if self._n_tokens else 0.0
