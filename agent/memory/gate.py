"""The context gate: how strongly a candidate is called for, and whether it passes.

Strength combines coverage (how much of the entry's own n-gram mass the context holds)
with evidence (how much rare matched mass there is at all): an entry that shares only a
common word with the context has little of both. Recency, use and confidence scale it.
Pinned entries never lose recency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agent.memory.config import MemorySettings
from agent.memory.lookup import Candidate
from agent.memory.models import MemoryEntry

_DAY = 86_400.0


@dataclass(frozen=True)
class GateResult:
    gate: float
    """Gate score; recalled only at or above the threshold."""
    rank: float
    """Ordering score: the match score scaled by the same recency/use/confidence factor."""


def entry_values(confidence: np.ndarray, use_count: np.ndarray, last_touched: np.ndarray,
                 pinned: np.ndarray, now: float, settings: MemorySettings) -> np.ndarray:
    """Recency x use x confidence, between 0.25 and 1.25: what decays when an entry goes
    unused, and what eviction compares. ``last_touched`` is the later of update and use."""
    age_days = np.maximum(0.0, now - last_touched) / _DAY
    recency = 0.5 + 0.5 * np.power(0.5, age_days / settings.recency_half_life_days)
    recency = np.where(pinned, 1.0, recency)
    use = 1.0 + np.minimum(0.25, 0.05 * np.log1p(use_count))
    return recency * use * (0.5 + 0.5 * np.clip(confidence, 0.0, 1.0))


def entry_value(entry: MemoryEntry, now: float, settings: MemorySettings) -> float:
    """``entry_values`` for one entry (scalar math: this runs per recall candidate)."""
    if entry.pinned:
        recency = 1.0
    else:
        age_days = max(0.0, now - max(entry.updated_at, entry.last_used_at or 0.0)) / _DAY
        recency = 0.5 + 0.5 * 0.5 ** (age_days / settings.recency_half_life_days)
    use = 1.0 + min(0.25, 0.05 * math.log1p(entry.use_count))
    return recency * use * (0.5 + 0.5 * min(1.0, max(0.0, entry.confidence)))


def gate(candidate: Candidate, entry: MemoryEntry, now: float,
         settings: MemorySettings) -> GateResult:
    """Score one candidate against the gate."""
    strength = math.sqrt(candidate.coverage) * (
        1.0 - math.exp(-candidate.match / settings.gate_evidence_scale))
    value = entry_value(entry, now, settings)
    return GateResult(gate=strength * value, rank=candidate.score * value)
