"""Which KV blocks a query attends to: attention sinks, the local window, and the top-scoring rest.

The choice is per sequence and per KV head, under a token budget that counts everything
attended (sinks + window + selected). When the budget covers every block, every block is
chosen, in order, so sparse attention reduces to dense attention exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch


@dataclass(frozen=True)
class SparseConfig:
    """Block-sparse attention policy (``--sparse-budget``)."""

    budget_tokens: int = 2048
    """Tokens attended per query and KV head, sinks and window included."""
    sink_tokens: int = 16
    """Leading tokens always attended (attention sinks, StreamingLLM)."""
    window_tokens: int = 256
    """Most recent tokens always attended; capped at a quarter of the budget."""
    query_block: int = 64
    """Prefill queries that share one block selection."""
    refine: int = 8
    """Decode: Quest bounds shortlist ``refine`` x the budget's blocks, exact q.k scores pick the final ones."""
    prefill_budget_tokens: int = 4096
    """Tokens a prefill query attends to besides its own chunk (sinks, window, selected); at least ``budget_tokens``."""

    def prefill(self) -> SparseConfig:
        """The policy prefill chunks use: the same selection under the (larger) prefill budget."""
        return replace(self, budget_tokens=max(self.budget_tokens, self.prefill_budget_tokens))

    def blocks(self, block_size: int) -> SparseBlocks:
        """The budget in whole blocks: (total, sinks, window)."""
        total = max(1, self.budget_tokens // block_size)
        window = -(-min(self.window_tokens, self.budget_tokens // 4) // block_size)
        sink = -(-self.sink_tokens // block_size) if self.sink_tokens > 0 else 0
        window = min(window, total)
        sink = min(sink, total - window)
        return SparseBlocks(total, sink, window)


@dataclass(frozen=True)
class SparseBlocks:
    total: int
    sink: int
    window: int


def select_blocks(scores: torch.Tensor, num_blocks: torch.Tensor, k: int, sink: int, window: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick up to ``k`` blocks per row of ``scores`` [B, heads, W] (block scores in table order).

    ``num_blocks`` [B]: blocks each sequence really has (the rest of W is padding). Sinks (the
    first ``sink`` blocks) and the window (the last ``window``) are always taken. Returns
    (indices into the table [B, heads, K] ascending, valid [B, heads, K]) with K = min(k, W);
    rows with fewer real blocks than K pad with invalid entries.
    """
    width = scores.shape[-1]
    j = torch.arange(width, device=scores.device)[None, :]
    n = num_blocks.to(scores.device)[:, None]
    real = j < n
    forced = real & ((j < sink) | (j >= n - window))
    s = scores.masked_fill(forced[:, None, :], float("inf")).masked_fill(~real[:, None, :], float("-inf"))
    s = torch.nan_to_num(s, nan=float("-inf"), posinf=float("inf"), neginf=float("-inf"))
    kk = min(k, width)
    values, idx = s.topk(kk, dim=-1, sorted=False)
    idx, order = idx.sort(dim=-1)
    valid = values.gather(-1, order) > float("-inf")
    return idx, valid
