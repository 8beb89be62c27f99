"""Per-block key summaries for query-aware block selection (Quest, arXiv:2406.10774).

Each block keeps the per-channel minimum and maximum of its keys for every KV head. For a
query q, ``sum_c max(q_c * min_c, q_c * max_c)`` bounds q . k from above for every key in the
block; it splits into two matmuls (``relu(q) @ max + min(q, 0) @ min``), so scoring every block
of a million-token context is one batched GEMM per layer, not a loop.
"""

from __future__ import annotations

import torch


class BlockSummary:
    """Key min/max per block and KV head, kept beside the block storage (on the GPU when there is one)."""

    def __init__(self, num_blocks: int, block_size: int, num_kv_heads: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device) -> None:
        self.block_size = block_size
        self.kmin = torch.zeros(num_blocks, num_kv_heads, head_dim, dtype=dtype, device=device)
        self.kmax = torch.zeros(num_blocks, num_kv_heads, head_dim, dtype=dtype, device=device)
        self._first_offset = torch.zeros(num_blocks, dtype=torch.long, device=device)

    def update(self, k: torch.Tensor, slot_mapping: torch.Tensor) -> None:
        """Fold new keys [T, kv_heads, d] at flat slots [T] into their blocks' summaries.

        Tokens are written in order, so a write that covers offset 0 of a block starts it afresh:
        its old summary (from the block's previous owner) is reset first. Every step here has a
        fixed shape and no host sync, so decode steps stay capturable as CUDA graphs.
        """
        bs = self.block_size
        blocks = torch.div(slot_mapping, bs, rounding_mode="floor")
        first = self._first_offset
        first.fill_(bs)
        first.scatter_reduce_(0, blocks, slot_mapping % bs, "amin")
        fresh = (first[blocks] == 0)[:, None, None]  # same answer for every token of a block
        self.kmin.index_copy_(0, blocks, torch.where(fresh, float("inf"), self.kmin[blocks]))
        self.kmax.index_copy_(0, blocks, torch.where(fresh, float("-inf"), self.kmax[blocks]))
        flat = k.to(self.kmin.dtype).reshape(k.shape[0], -1)
        index = blocks[:, None].expand_as(flat)
        self.kmin.view(self.kmin.shape[0], -1).scatter_reduce_(0, index, flat, "amin", include_self=True)
        self.kmax.view(self.kmax.shape[0], -1).scatter_reduce_(0, index, flat, "amax", include_self=True)

    def read(self, block_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"kmin": self.kmin[block_ids], "kmax": self.kmax[block_ids]}

    def write(self, block_ids: torch.Tensor, data: dict[str, torch.Tensor]) -> None:
        dev = self.kmin.device
        ids = block_ids.to(dev)
        self.kmin.index_copy_(0, ids, data["kmin"].to(dev, self.kmin.dtype))
        self.kmax.index_copy_(0, ids, data["kmax"].to(dev, self.kmax.dtype))


def quest_scores(q: torch.Tensor, kmin: torch.Tensor, kmax: torch.Tensor) -> torch.Tensor:
    """Upper bounds of q . k per block, the max over each KV head's query heads.

    ``q`` [B, Q, heads, d] (Q queries per sequence; grouped-query heads map to KV head
    ``h // (heads // kv_heads)``), ``kmin``/``kmax`` [B, W, kv_heads, d] -> [B, kv_heads, W].
    """
    b, nq, heads, d = q.shape
    kvh = kmin.shape[2]
    qg = q.view(b, nq, kvh, heads // kvh, d).permute(0, 2, 1, 3, 4).reshape(b, kvh, -1, d).to(kmin.dtype)
    kmax_t, kmin_t = kmax.permute(0, 2, 3, 1), kmin.permute(0, 2, 3, 1)  # [B, kvh, d, W]
    bound = torch.matmul(qg.clamp(min=0), kmax_t) + torch.matmul(qg.clamp(max=0), kmin_t)  # [B, kvh, n, W]
    return bound.amax(dim=2).float()
