"""The paged KV storage: per layer, K and V tensors of shape [num_blocks, block_size, kv_heads, head_dim].

The layout lives here alone so later storage variants (FP8 with scales, CPU/disk tiers) replace
this module without touching the model or the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LayerKV:
    """One layer's cache tensors."""

    k: torch.Tensor
    v: torch.Tensor

    def write(self, k: torch.Tensor, v: torch.Tensor, slot_mapping: torch.Tensor) -> None:
        """Store new keys/values [T, kv_heads, head_dim] at flat slots ``slot_mapping`` [T]."""
        heads, dim = self.k.shape[-2:]
        self.k.view(-1, heads, dim).index_copy_(0, slot_mapping, k.to(self.k.dtype))
        self.v.view(-1, heads, dim).index_copy_(0, slot_mapping, v.to(self.v.dtype))

    def gather(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of the blocks ``block_ids`` [..., n]: [..., n * block_size, heads, dim]."""
        k, v = self.k[block_ids], self.v[block_ids]
        shape = (*block_ids.shape[:-1], -1, *self.k.shape[-2:])
        return k.reshape(shape), v.reshape(shape)


class PagedKVCache:
    """All layers' paged K/V storage."""

    def __init__(
        self,
        num_layers: int,
        num_blocks: int,
        block_size: int,
        num_kv_heads: int,
        head_dim: int,
        dtype: torch.dtype,
        device: torch.device,
    ) -> None:
        self.num_blocks = num_blocks
        self.block_size = block_size
        shape = (num_blocks, block_size, num_kv_heads, head_dim)
        self.layers = [
            LayerKV(torch.zeros(shape, dtype=dtype, device=device), torch.zeros(shape, dtype=dtype, device=device))
            for _ in range(num_layers)
        ]

    @staticmethod
    def bytes_per_block(num_layers: int, block_size: int, num_kv_heads: int, head_dim: int, dtype: torch.dtype) -> int:
        """Memory one block takes across all layers (K and V)."""
        itemsize = torch.empty((), dtype=dtype).element_size()
        return 2 * num_layers * block_size * num_kv_heads * head_dim * itemsize
