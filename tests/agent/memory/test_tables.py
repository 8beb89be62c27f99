from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.memory.buffer import WriteBuffer
from agent.memory.config import MemorySettings
from agent.memory.keys import entry_keys, query_keys
from agent.memory.lookup import lookup
from agent.memory.tablefile import load_tables, save_tables
from agent.memory.tables import build_tables


def _words(n: int) -> list[str]:
    # Distinct pronounceable words that the stemmer leaves alone.
    consonants, vowels = "bdfgkmnprtvz", "aiou"
    out = []
    for a in consonants:
        for b in vowels:
            for c in consonants:
                for d in vowels:
                    for e in consonants:
                        out.append(a + b + c + d + e)
                        if len(out) == n:
                            return out
    return out


def _tables(texts: list[str], settings: MemorySettings):
    keys = [entry_keys(t, settings.max_ngram) for t in texts]
    ids = np.arange(1, len(texts) + 1, dtype=np.int64)
    return build_tables(ids, [k.keys for k in keys], np.array([k.n_tokens for k in keys]),
                        settings, generation=1, db_id="test")


def _ids(texts_tables, settings, context: str) -> list[int]:
    q = query_keys(context, settings.max_ngram, settings.max_context_tokens)
    cands = lookup(q, texts_tables, np.zeros(texts_tables.n_rows, bool), WriteBuffer(),
                   settings, limit=50)
    return [c.id for c in cands]


def test_agreement_across_heads_rejects_collisions() -> None:
    # 4000 one-word entries in tables of ~1021 buckets: every bucket of one head is shared
    # by several words, so one head alone returns strangers; eight heads agree on one.
    words = _words(4000)
    settings = MemorySettings(max_ngram=1, buckets_per_ngram=0.01, max_df_fraction=1.0)
    one_head = settings.model_copy(update={"heads": 1})
    t8, t1 = _tables(words, settings), _tables(words, one_head)
    assert t8.layout.primes.min() < 1100
    wrong_single = 0
    for i in range(0, 4000, 97):
        assert _ids(t8, settings, words[i]) == [i + 1]
        got = _ids(t1, one_head, words[i])
        assert i + 1 in got
        wrong_single += len(got) - 1
    assert wrong_single > 0


def test_heads_use_distinct_primes_and_count_min_bounds_df() -> None:
    settings = MemorySettings()
    texts = ["alpha beta"] * 3 + ["alpha gamma", "delta"]
    t = _tables(texts, settings)
    primes = t.layout.primes
    assert primes.shape == (3, 8)
    assert all(len(set(row.tolist())) == 8 for row in primes)
    q = query_keys("alpha", 3, 10)
    sizes = t.sizes(t.layout.buckets(q.keys))
    assert sizes.min() == 4  # count-min: the smallest bucket is exact here, never below


def test_rarer_and_longer_matches_rank_first() -> None:
    settings = MemorySettings()
    texts = ["connection pool size", "pool party", "the connection pool leaks sockets",
             "sockets", "pool"] + [f"filler text number {w}" for w in _words(40)]
    t = _tables(texts, settings)
    ranked = _ids(t, settings, "why does the connection pool leak sockets")
    assert ranked[0] == 3


def test_tables_file_round_trip(tmp_path: Path) -> None:
    settings = MemorySettings()
    t = _tables(["alpha beta", "gamma"], settings)
    path = tmp_path / "memory.tables"
    save_tables(t, path)
    loaded = load_tables(path)
    assert loaded is not None and loaded.generation == 1
    assert np.array_equal(loaded.postings, t.postings)
    assert np.array_equal(loaded.offsets, t.offsets)
    assert _ids(loaded, settings, "gamma") == [2]
    # A truncated or foreign file is rebuilt, never trusted.
    path.write_bytes(path.read_bytes()[:100])
    assert load_tables(path) is None
    path.write_bytes(b"not tables at all")
    assert load_tables(path) is None
