"""Size and build the KV cache an engine's settings ask for (device-only or tiered, bf16 or FP8)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from runtime.engine.block_select import SparseConfig
from runtime.engine.config import ModelConfig
from runtime.engine.errors import EngineError
from runtime.engine.kv_cache import PagedKVCache
from runtime.engine.kv_tiers import (
    KVLayout,
    bytes_per_block,
    device_cache,
    tiered_cache,
)
from runtime.engine.settings import EngineSettings, kv_storage_dtype

_GIB = 2**30


@dataclass
class KVPlan:
    cache: PagedKVCache
    num_blocks: int
    """Blocks the pool hands out (the cache has one more: scratch space for padded rows)."""
    sparse: SparseConfig | None


def sparse_config(settings: EngineSettings) -> SparseConfig | None:
    if settings.sparse_budget == 0:
        return None
    return SparseConfig(settings.sparse_budget, settings.sparse_sink_tokens, settings.sparse_window_tokens,
                        refine=settings.sparse_refine, prefill_budget_tokens=settings.sparse_prefill_budget)


def build_kv(cfg: ModelConfig, settings: EngineSettings, device: torch.device, dtype: torch.dtype,
             max_batched_tokens: int) -> KVPlan:
    """The cache for ``cfg`` under ``settings``; raises :class:`EngineError` when it cannot fit."""
    bs = settings.block_size
    layout = KVLayout(bs, cfg.num_kv_heads, cfg.head_dim, dtype, fp8=settings.kv_dtype == "fp8",
                      storage_dtype=kv_storage_dtype(settings.kv_dtype, dtype))
    sparse = sparse_config(settings)
    ctx = min(cfg.max_context, settings.max_model_len or cfg.max_context)
    if settings.kv_offload == "none":
        per_block = bytes_per_block(cfg.num_layers, layout, summary=sparse is not None)
        num_blocks = _device_blocks(settings, device, per_block, ctx)
        return KVPlan(device_cache(cfg.num_layers, layout, num_blocks + 1, device, sparse is not None),
                      num_blocks, sparse)
    num_blocks = settings.kv_cache_tokens // bs if settings.kv_cache_tokens else -(-ctx // bs) + settings.max_num_seqs
    num_blocks = max(1, num_blocks)
    needed = min(num_blocks + 1, _slots_needed(settings, sparse, cfg.num_kv_heads, max_batched_tokens,
                                               min(ctx, num_blocks * bs)))
    storage = bytes_per_block(cfg.num_layers, layout, summary=False)
    summaries = (num_blocks + 1) * (bytes_per_block(cfg.num_layers, layout, summary=True) - storage)
    if settings.gpu_kv_gib is not None:
        slots = int((settings.gpu_kv_gib * _GIB - summaries) // storage)
        if slots < needed:
            raise EngineError(
                f"--gpu-kv-gib {settings.gpu_kv_gib:g} holds {max(slots, 0)} KV blocks per layer; these settings need "
                f"at least {needed} ({(needed * storage + summaries) / _GIB:.3g} GiB); raise it or lower --sparse-budget"
            )
    elif device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        slots = int((free * settings.gpu_memory_utilization - summaries) // storage)
    else:
        slots = needed
    slots = min(max(needed, slots), num_blocks + 1)
    cache = tiered_cache(cfg.num_layers, layout, num_blocks + 1, slots, device, settings.kv_offload, settings.disk_dir())
    return KVPlan(cache, num_blocks, sparse)


def _slots_needed(settings: EngineSettings, sparse: SparseConfig | None, kv_heads: int, chunk: int, ctx: int) -> int:
    """Most distinct blocks one attention call may read at once (per layer)."""
    bs = settings.block_size
    chunk_blocks = -(-chunk // bs) + settings.max_num_seqs
    if sparse is None:  # dense: whole sequences at once
        return settings.max_num_seqs * (-(-ctx // bs)) + chunk_blocks
    total = sparse.blocks(bs).total
    prefill = sparse.prefill().blocks(bs).total
    shortlist = total * max(1, sparse.refine)
    return max(settings.max_num_seqs * kv_heads * shortlist, kv_heads * prefill, prefill + chunk_blocks) + 1


def _device_blocks(settings: EngineSettings, device: torch.device, per_block: int, ctx: int) -> int:
    bs = settings.block_size
    if settings.kv_cache_tokens:
        return max(1, settings.kv_cache_tokens // bs)
    if settings.gpu_kv_gib is not None:
        return max(1, int(settings.gpu_kv_gib * _GIB) // per_block)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(1, int(free * settings.gpu_memory_utilization) // per_block)
    return max(1, -(-2 * ctx // bs))
