"""Paged KV storage: per layer, K and V blocks of shape [num_blocks, block_size, kv_heads, head_dim].

Every storage variant (plain, FP8 with scales in :mod:`kv_fp8`, tiered in :mod:`kv_tiers`)
offers the :class:`LayerStorage` interface, so attention code never knows where a block lives
or how it is encoded. Each layer may carry a :class:`BlockSummary` for block selection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import torch

from runtime.engine.block_summary import BlockSummary

if TYPE_CHECKING:
    from runtime.engine.kv_tiers import TierSet


class LayerStorage(Protocol):
    """One layer's KV blocks, addressed by block id (slots are ``block * block_size + offset``)."""

    block_size: int
    num_blocks: int
    summary: BlockSummary | None

    def write(self, k: torch.Tensor, v: torch.Tensor, slot_mapping: torch.Tensor) -> None: ...

    def gather(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def gather_heads(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def read_blocks(self, block_ids: torch.Tensor) -> dict[str, torch.Tensor]: ...

    def write_blocks(self, block_ids: torch.Tensor, data: dict[str, torch.Tensor]) -> None: ...


def head_index(num_heads: int, device: torch.device) -> torch.Tensor:
    """[1, heads, 1] index that pairs a [B, heads, K] block-id tensor with each head."""
    return torch.arange(num_heads, device=device).view(1, -1, 1)


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Copy ``t`` to ``device``; asynchronous only host-to-GPU (a GPU-to-host copy must land before use)."""
    return t.to(device, non_blocking=device.type == "cuda")


class LayerKV:
    """Unquantized storage: the model's dtype (``--kv-dtype auto``) or bfloat16 (``bf16``).

    ``dtype`` is what is stored; reads return it and attention casts to its compute dtype, so a
    float32 model on CPU with bfloat16 storage attends over bf16-rounded keys and values in float32.
    Block summaries use ``compute_dtype`` (default ``dtype``).
    """

    def __init__(self, num_blocks: int, block_size: int, num_kv_heads: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device, summary: bool = False,
                 k: torch.Tensor | None = None, v: torch.Tensor | None = None,
                 compute_dtype: torch.dtype | None = None) -> None:
        shape = (num_blocks, block_size, num_kv_heads, head_dim)
        self.k = k if k is not None else torch.zeros(shape, dtype=dtype, device=device)
        self.v = v if v is not None else torch.zeros(shape, dtype=dtype, device=device)
        self.block_size, self.num_blocks = block_size, num_blocks
        self.summary = (BlockSummary(num_blocks, block_size, num_kv_heads, head_dim, compute_dtype or dtype, device)
                        if summary else None)

    def write(self, k: torch.Tensor, v: torch.Tensor, slot_mapping: torch.Tensor) -> None:
        """Store new keys/values [T, kv_heads, head_dim] at flat slots ``slot_mapping`` [T]."""
        heads, dim = self.k.shape[-2:]
        self.k.view(-1, heads, dim).index_copy_(0, slot_mapping, k.to(self.k.dtype))
        self.v.view(-1, heads, dim).index_copy_(0, slot_mapping, v.to(self.v.dtype))
        if self.summary is not None:
            self.summary.update(k, slot_mapping)

    def gather(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of the blocks ``block_ids`` [..., n]: [..., n * block_size, heads, dim]."""
        k, v = self.k[block_ids], self.v[block_ids]
        shape = (*block_ids.shape[:-1], -1, *self.k.shape[-2:])
        return k.reshape(shape), v.reshape(shape)

    def gather_heads(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-head block choice ``block_ids`` [B, heads, K] -> keys, values [B, heads, K * block_size, dim]."""
        heads = head_index(block_ids.shape[1], block_ids.device)
        b, h, n = block_ids.shape
        k, v = self.k[block_ids, :, heads], self.v[block_ids, :, heads]  # [B, h, K, bs, d]
        return k.reshape(b, h, n * self.block_size, -1), v.reshape(b, h, n * self.block_size, -1)

    def read_blocks(self, block_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """The stored bytes of ``block_ids`` (what tiers copy and sessions save)."""
        out = {"k": self.k[block_ids], "v": self.v[block_ids]}
        if self.summary is not None:
            out.update(self.summary.read(block_ids))
        return out

    def write_blocks(self, block_ids: torch.Tensor, data: dict[str, torch.Tensor]) -> None:
        """Overwrite ``block_ids`` with what :meth:`read_blocks` returned (bit for bit)."""
        dev = self.k.device
        ids = to_device(block_ids, dev)
        self.k.index_copy_(0, ids, to_device(data["k"], dev))
        self.v.index_copy_(0, ids, to_device(data["v"], dev))
        if self.summary is not None and "kmin" in data:
            self.summary.write(block_ids, data)


class PagedKVCache:
    """All layers' paged KV storage, plus whatever tier bookkeeping the layers share."""

    def __init__(self, layers: list[LayerStorage], block_size: int, num_blocks: int, tiers: TierSet | None = None) -> None:
        self.layers = layers
        self.block_size = block_size
        self.num_blocks = num_blocks
        self.tiers = tiers
        """Shared tier state when blocks live in tiers (``--kv-offload cpu|disk``), else None."""

    def device_bytes(self) -> int:
        """Bytes of KV state on the compute device (storage, scales, summaries; the GPU tier when tiered)."""
        total = 0
        for layer in self.layers:
            store = getattr(layer, "gpu", layer)  # a tiered layer's device part
            for name in ("k", "v", "k_scale", "v_scale"):
                t = getattr(store, name, None)
                if isinstance(t, torch.Tensor):
                    total += t.numel() * t.element_size()
            if layer.summary is not None:
                total += 2 * layer.summary.kmin.numel() * layer.summary.kmin.element_size()
        return total

    @classmethod
    def dense(cls, num_layers: int, num_blocks: int, block_size: int, num_kv_heads: int, head_dim: int,
              dtype: torch.dtype, device: torch.device, summary: bool = False) -> PagedKVCache:
        """Plain storage on ``device`` (the layout the engine started with)."""
        layers: list[LayerStorage] = [
            LayerKV(num_blocks, block_size, num_kv_heads, head_dim, dtype, device, summary) for _ in range(num_layers)
        ]
        return cls(layers, block_size, num_blocks)

    @staticmethod
    def bytes_per_block(num_layers: int, block_size: int, num_kv_heads: int, head_dim: int, dtype: torch.dtype) -> int:
        """Memory one block takes across all layers (K and V)."""
        itemsize = torch.empty((), dtype=dtype).element_size()
        return 2 * num_layers * block_size * num_kv_heads * head_dim * itemsize
