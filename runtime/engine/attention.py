"""Attention over the paged KV cache: gather a sequence's blocks, then PyTorch SDPA.

Prefill of a fresh sequence attends to its own keys directly (causal SDPA, no gather);
chunked prefill and decode gather keys from the block table. When a sparse policy is set and a
sequence outgrows its token budget, :mod:`sparse_attention` takes over (top-k blocks + sinks +
window); on CUDA with FP8 storage, decode runs the fused Triton kernel when it is available.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from runtime.engine.block_select import SparseConfig
from runtime.engine.kv_cache import LayerStorage
from runtime.engine.sparse_attention import (
    needs_sparse,
    sparse_decode,
    sparse_prefill_chunk,
)


@dataclass
class AttentionMetadata:
    """Where a flat batch of new tokens sits in each sequence and in the cache."""

    slot_mapping: torch.Tensor
    """[T] flat cache slot of each new token."""
    query_lens: list[int]
    """New tokens per sequence, in batch order."""
    context_lens: list[int]
    """Tokens each sequence has in the cache after this step (its own new ones included)."""
    block_tables: torch.Tensor
    """[B, max_blocks] block ids per sequence, padded with 0."""
    context_lens_t: torch.Tensor
    """[B] ``context_lens`` on the device (decode masking)."""
    is_decode: bool
    """Every sequence has exactly one new token."""
    sparse: SparseConfig | None = None
    """Block-sparse policy for sequences longer than its budget; None: always dense."""


def paged_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cache: LayerStorage, meta: AttentionMetadata, scale: float
) -> torch.Tensor:
    """Write ``k``/``v`` [T, kv_heads, d] into the cache, return attention of ``q`` [T, heads, d]."""
    cache.write(k, v, meta.slot_mapping)
    bs = cache.block_size
    sparse = meta.sparse if cache.summary is not None else None
    if meta.is_decode:
        if sparse is not None and needs_sparse(max(meta.context_lens), sparse, bs):
            return sparse_decode(q, cache, meta.block_tables, meta.context_lens_t, scale, sparse)
        return _decode(q, cache, meta, scale)
    outs = []
    start = 0
    for i, (qlen, ctx) in enumerate(zip(meta.query_lens, meta.context_lens)):
        qi = q[start : start + qlen]
        if ctx == qlen:  # the whole sequence is new: no need to read the cache back
            ki, vi = k[start : start + qlen], v[start : start + qlen]
            outs.append(_sdpa(qi, ki, vi, None, scale, causal=True))
        elif sparse is not None and (
            out := sparse_prefill_chunk(qi, cache, meta.block_tables[i], ctx, scale, sparse)
        ) is not None:
            outs.append(out)
        else:
            nblocks = -(-ctx // bs)
            ki, vi = cache.gather(meta.block_tables[i, :nblocks])
            ki, vi = ki[:ctx], vi[:ctx]
            # Query j sits at absolute position ctx - qlen + j and sees keys up to it.
            mask = torch.ones(qlen, ctx, dtype=torch.bool, device=q.device).tril(ctx - qlen)
            outs.append(_sdpa(qi, ki, vi, mask, scale, causal=False))
        start += qlen
    return torch.cat(outs, dim=0) if len(outs) > 1 else outs[0]


def _sdpa(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, scale: float, causal: bool
) -> torch.Tensor:
    # [T, H, d] -> [1, H, T, d]
    qh, kh, vh = (x.transpose(0, 1).unsqueeze(0) for x in (q, k.to(q.dtype), v.to(q.dtype)))
    out = F.scaled_dot_product_attention(
        qh, kh, vh, attn_mask=mask, is_causal=causal, scale=scale, enable_gqa=qh.shape[1] != kh.shape[1]
    )
    return out.squeeze(0).transpose(0, 1)


def _decode(q: torch.Tensor, cache: LayerStorage, meta: AttentionMetadata, scale: float) -> torch.Tensor:
    # Batched: gather every sequence's blocks (padded to the widest table), mask past each length.
    k, v = cache.gather(meta.block_tables)  # [B, S, kvh, d]
    positions = torch.arange(k.shape[1], device=q.device)
    mask = (positions[None, :] < meta.context_lens_t[:, None])[:, None, None, :]  # [B, 1, 1, S]
    qh = q.unsqueeze(2)  # [B, H, 1, d]
    kh, vh = k.transpose(1, 2).to(q.dtype), v.transpose(1, 2).to(q.dtype)
    out = F.scaled_dot_product_attention(
        qh, kh, vh, attn_mask=mask, scale=scale, enable_gqa=qh.shape[1] != kh.shape[1]
    )
    return out.squeeze(2)
