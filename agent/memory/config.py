"""Settings of the Engram memory (the ``[memory]`` table of config.toml)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MemorySettings(BaseModel):
    """How much the project memory holds, how it hashes and how strictly it recalls."""

    enabled: bool = True
    """Turn the per-project memory off entirely."""

    recall_budget_tokens: int = Field(default=1500, ge=0)
    """Tokens of recalled memory added to a prompt."""

    recall_k: int = Field(default=8, ge=1, le=256)
    """At most this many entries are recalled for one context."""

    max_entries: int = Field(default=100_000, ge=1)
    """Size cap; the least valuable unpinned entries are evicted beyond it."""

    max_entry_chars: int = Field(default=4000, ge=16)
    """Longest text one entry may hold; longer texts are refused (instruction files are split)."""

    max_instruction_file_bytes: int = Field(default=1_000_000, ge=1)
    """AGENTS.md / CLAUDE.md / .engram/memory.md larger than this are not imported."""

    instruction_files: list[str] = Field(
        default_factory=lambda: ["AGENTS.md", "CLAUDE.md", ".engram/memory.md"]
    )
    """Project files imported as pinned conventions (paths relative to the project root)."""

    max_ngram: int = Field(default=3, ge=1, le=3)
    """Longest n-gram (in normalized tokens) used as a lookup key."""

    heads: int = Field(default=8, ge=1, le=16)
    """Hash heads per n-gram order; each maps keys into its own prime-sized bucket table."""

    agreement_heads: int = Field(default=8, ge=1, le=16)
    """Heads whose postings are read per n-gram: the ones with the smallest buckets (all
    heads' bucket sizes always give the count-min frequency estimate). An entry counts for
    an n-gram only if every head read lists it. Fewer heads read means faster recalls; two
    or more agreeing heads already make a false match vanishingly rare."""

    buckets_per_ngram: float = Field(default=0.5, gt=0.0, le=4.0)
    """Table size relative to the distinct n-grams of an order (collisions are resolved by
    agreement across heads, so tables may be smaller than the key set)."""

    hash_seed: int = Field(default=0x5EED_E9A3, ge=0)
    """Seed from which every head's hash seed is derived; changing it rebuilds the tables."""

    max_context_tokens: int = Field(default=4096, ge=8, le=5000)
    """Only the last this-many normalized tokens of a recall context are looked up."""

    max_df_fraction: float = Field(default=0.05, gt=0.0, le=1.0)
    """N-grams found in more than this fraction of entries are too common to look up."""

    max_postings: int = Field(default=65_536, ge=1024)
    """Posting budget per recall: rarest n-grams are read first, common ones skipped beyond it."""

    bm25_k1: float = Field(default=1.2, ge=0.0)
    """Saturation of the match score (as in BM25, with each n-gram counted once per entry)."""

    bm25_b: float = Field(default=0.5, ge=0.0, le=1.0)
    """Length normalization of the match score."""

    order_weights: list[float] = Field(default_factory=lambda: [1.0, 1.0, 1.0])
    """Weight of a matched unigram, bigram and trigram (multiplies its IDF)."""

    gate_threshold: float = Field(default=0.2, ge=0.0)
    """Entries whose gate score is under this are never recalled."""

    gate_evidence_scale: float = Field(default=3.0, gt=0.0)
    """Matched IDF mass at which match evidence reaches ~63% of full strength."""

    recency_half_life_days: float = Field(default=30.0, gt=0.0)
    """Unused, unpinned entries lose half of their recency bonus in this many days."""

    dedup_threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    """Jaccard similarity of n-gram sets above which a new entry merges into an old one."""

    compact_min_rows: int = Field(default=2048, ge=1)
    """Entries written since the last table build that trigger a rebuild (with at least an
    eighth of the table's size); smaller memories are rebuilt whenever they change."""

    eager_rebuild_rows: int = Field(default=20_000, ge=0)
    """Memories up to this size rebuild their tables on any change (a rebuild takes ~ms)."""

    busy_timeout_ms: int = Field(default=10_000, ge=0)
    """How long a write waits for another process's transaction before giving up."""

    encoding: str = "o200k_base"
    """Tokenizer used to count recalled tokens against the budget."""
