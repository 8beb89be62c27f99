"""Block-sparse attention over the paged cache: decode steps and chunks of a long prefill.

Decode: each sequence's blocks are scored against its query per KV head (Quest bounds from
:mod:`block_summary`), a shortlist of ``refine`` x the budget is rescored exactly, and the best
blocks within the token budget are gathered per head (plus sinks and the local window) and
attended with a validity mask. Prefill chunk: dense causal attention
to a local band (the chunk and the window before it), plus the same selection over the older
context, chosen per block of queries (64 by default) by the highest bound any of its queries
gives; so a long prefill reads a bounded amount of old KV per query block instead of all of it.
Prefill queries get their own, larger budget (``prefill_budget_tokens``, 4096 by default):
with the decode budget of 512 in prefill too (and bound-only decode), passkey retrieval fell
from 100/100/100/90% (dense) to 100/80/40/0% at 512/1K/2K/4K tokens (bench/results/longctx.md).

Why per query block and not one choice per chunk: the last prompt tokens produce the first
answer token, and a choice averaged over a 512-token chunk (tried first: mean-pooled queries)
dropped the passkey block, turning 4/4 dense retrievals at 2K into 1/4.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from runtime.engine.block_select import SparseConfig, select_blocks
from runtime.engine.block_summary import quest_scores
from runtime.engine.fp8_attention_triton import fp8_sparse_decode, usable
from runtime.engine.kv_cache import LayerStorage
from runtime.engine.kv_fp8 import Fp8LayerKV

log = logging.getLogger(__name__)


def needs_sparse(context_len: int, cfg: SparseConfig, block_size: int) -> bool:
    """Whether a sequence this long has more blocks than the budget holds."""
    return -(-context_len // block_size) > cfg.blocks(block_size).total


def sparse_decode(q: torch.Tensor, cache: LayerStorage, block_tables: torch.Tensor, context_lens: torch.Tensor,
                  scale: float, cfg: SparseConfig) -> torch.Tensor:
    """One new token per sequence: ``q`` [B, heads, d] -> attention output [B, heads, d]."""
    assert cache.summary is not None, "sparse attention needs block summaries"
    bs = cache.block_size
    b, heads, d = q.shape
    nblocks = torch.div(context_lens + bs - 1, bs, rounding_mode="floor")
    plan = cfg.blocks(bs)
    summary = cache.summary
    scores = quest_scores(q[:, None], summary.kmin[block_tables], summary.kmax[block_tables])
    qh = q.view(b, -1, heads // scores.shape[1], d)  # [B, kvh, group, d]
    if plan.total < block_tables.shape[1] and cfg.refine > 1:
        idx, valid = _refine(qh, cache, block_tables, scores, context_lens, plan.total, cfg.refine, plan.sink,
                             plan.window)
    else:
        idx, valid = select_blocks(scores, nblocks, plan.total, plan.sink, plan.window)
    ids = block_tables.gather(1, idx.flatten(1)).view_as(idx)
    fused = _fused_fp8_target(cache, ids, bs, d)
    if fused is not None:  # CUDA + Triton + FP8: dequantize inside the kernel
        store, store_ids = fused
        try:
            out = fp8_sparse_decode(q, store.k, store.v, store.k_scale, store.v_scale, store.k_offset, store_ids,
                                    idx, valid, context_lens, scale)
        except Exception as exc:  # noqa: BLE001 - a kernel that cannot compile or launch must not fail decode
            store.fused_kernel_ok = False
            log.warning("FP8 Triton decode kernel failed (%s); using the torch path for this layer", exc)
        else:
            if hasattr(cache, "mark_read"):
                cache.mark_read()
            return out
    k, v = cache.gather_heads(ids)  # [B, kvh, K * bs, d]
    pos = (idx[..., None] * bs + torch.arange(bs, device=q.device)).flatten(2)
    mask = valid.repeat_interleave(bs, dim=-1) & (pos < context_lens.to(q.device)[:, None, None])
    out = F.scaled_dot_product_attention(qh, k.to(q.dtype), v.to(q.dtype), attn_mask=mask[:, :, None, :], scale=scale)
    return out.reshape(b, heads, d)


def _refine(qh: torch.Tensor, cache: LayerStorage, block_tables: torch.Tensor, bounds: torch.Tensor,
            context_lens: torch.Tensor, k: int, refine: int, sink: int, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Shortlist ``refine * k`` blocks by Quest bound, keep the ``k`` whose best exact q.k is highest.

    The bound alone is loose for 16-token blocks: on passkey retrieval at 4K tokens with a
    512-token budget it kept 1 of 3 needles where exact block scores kept 3 of 3 (see
    bench/results/longctx.md); reading the shortlist's keys costs ``refine`` x the budget.
    """
    bs = cache.block_size
    nblocks = torch.div(context_lens + bs - 1, bs, rounding_mode="floor")
    short, short_valid = select_blocks(bounds, nblocks, refine * k, sink, window)  # [B, kvh, K1] table positions
    keys, _ = cache.gather_heads(block_tables.gather(1, short.flatten(1)).view_as(short))  # [B, kvh, K1*bs, d]
    exact = torch.matmul(qh, keys.to(qh.dtype).transpose(-1, -2)).amax(dim=2)  # [B, kvh, K1*bs]
    pos = (short[..., None] * bs + torch.arange(bs, device=qh.device)).flatten(2)
    real = short_valid.repeat_interleave(bs, dim=-1) & (pos < context_lens.to(qh.device)[:, None, None])
    exact = exact.masked_fill(~real, float("-inf")).view(*short.shape, bs).amax(dim=-1)  # best token per block
    # Rank shortlisted blocks by exact score; sinks and window stay forced by their table position.
    j = short
    n = nblocks.to(qh.device)[:, None, None]
    forced = short_valid & ((j < sink) | (j >= n - window))
    exact = exact.masked_fill(forced, float("inf")).masked_fill(~short_valid, float("-inf"))
    kk = min(k, short.shape[-1])
    values, order = exact.topk(kk, dim=-1, sorted=False)
    idx = short.gather(-1, order)
    idx, perm = idx.sort(dim=-1)
    return idx, values.gather(-1, perm) > float("-inf")


def _fused_fp8_target(cache: LayerStorage, ids: torch.Tensor, bs: int, d: int
                      ) -> tuple[Fp8LayerKV, torch.Tensor] | None:
    """The FP8 storage and ids the Triton kernel reads, or None when it cannot run here."""
    if not usable(ids) or bs & (bs - 1) or d & (d - 1):  # tl.arange needs powers of two
        return None
    resolve = getattr(cache, "resolve", None)  # a tiered layer: read its device slots
    store = getattr(cache, "gpu", None) if resolve is not None else cache
    if not isinstance(store, Fp8LayerKV) or not store.fused_kernel_ok:
        return None
    return store, (resolve(ids) if resolve is not None else ids)


def sparse_prefill_chunk(q: torch.Tensor, cache: LayerStorage, table: torch.Tensor, context_len: int, scale: float,
                         cfg: SparseConfig) -> torch.Tensor | None:
    """Attention for a prefill chunk ``q`` [T, heads, d] ending at ``context_len``; None when dense is exact.

    ``table`` [>= nblocks]: the sequence's block ids; the chunk's own keys are already in the
    cache. Every query sees the dense band causally; each block of ``cfg.query_block`` queries
    also sees the old blocks that score highest for any of its queries (per KV head).
    """
    assert cache.summary is not None, "sparse attention needs block summaries"
    bs = cache.block_size
    qlen = q.shape[0]
    plan = cfg.prefill().blocks(bs)
    band_start = max(0, context_len - qlen - plan.window * bs) // bs  # first block of the dense band
    old_budget = plan.total - plan.window
    if band_start <= old_budget:  # the whole older context fits the budget: dense attention is exact
        return None
    old = table[:band_start]
    nblocks = -(-context_len // bs)
    band_len = context_len - band_start * bs
    k_band, v_band = cache.gather(table[band_start:nblocks])
    k_band, v_band = k_band[:band_len].transpose(0, 1), v_band[:band_len].transpose(0, 1)  # [kvh, S, d]
    # Query j sits at absolute position context_len - qlen + j; band key t at band_start * bs + t.
    band_mask = torch.ones(qlen, band_len, dtype=torch.bool, device=q.device).tril(band_len - qlen)
    kmin, kmax = cache.summary.kmin[old][None], cache.summary.kmax[old][None]
    keys = values = None
    outs = []
    for start in range(0, qlen, cfg.query_block):
        qb = q[start : start + cfg.query_block]
        scores = quest_scores(qb[None], kmin, kmax)  # [1, kvh, n_old]: max bound over the block's queries
        idx, _ = select_blocks(scores, torch.tensor([band_start]), old_budget, plan.sink, 0)
        k_old, v_old = cache.gather_heads(old[idx])  # every chosen block is full and precedes the chunk
        n_old = k_old.shape[2]
        if keys is None or values is None:  # one buffer per chunk: the band goes in once
            keys = q.new_empty(k_band.shape[0], n_old + band_len, q.shape[-1])
            values = q.new_empty(keys.shape)
            keys[:, n_old:], values[:, n_old:] = k_band, v_band
        keys[:, :n_old], values[:, :n_old] = k_old[0], v_old[0]
        outs.append(_attend(qb, keys, values, n_old, band_mask[start : start + cfg.query_block], scale))
    return torch.cat(outs, dim=0)


def _attend(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, n_old: int, band_mask: torch.Tensor,
            scale: float) -> torch.Tensor:
    """``q`` [T, heads, d] over per-KV-head ``keys``/``values`` [kvh, n_old + band, d]."""
    mask = torch.cat([torch.ones(q.shape[0], n_old, dtype=torch.bool, device=q.device), band_mask], dim=1)
    out = F.scaled_dot_product_attention(
        q.transpose(0, 1)[None], keys[None], values[None], attn_mask=mask, scale=scale,
        enable_gqa=q.shape[1] != keys.shape[0],
    )
    return out[0].transpose(0, 1)
