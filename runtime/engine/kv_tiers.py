"""Tiered KV storage: every block's home is the host tier; the GPU tier caches the blocks in use.

A :class:`TieredLayerKV` presents the ordinary :class:`~runtime.engine.kv_cache.LayerStorage`
interface over logical block ids (the block pool's ids):

- writes land in device slots (quantized there when FP8) and the touched blocks are copied back
  to the host, so the host always holds every block of every sequence;
- reads translate logical ids to slots, copying missing blocks in from the host first (LRU
  eviction; the blocks of the current step are never evicted);
- block summaries for selection cover all logical blocks and stay on the device, so scoring a
  million-token context needs no host traffic at all.

Sinks and the recent window are requested at every step, so they stay at the recent end of the
LRU order and in practice never leave the GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from runtime.engine.block_summary import BlockSummary
from runtime.engine.kv_cache import LayerKV, LayerStorage, PagedKVCache
from runtime.engine.kv_fp8 import Fp8LayerKV
from runtime.engine.tier_gpu import SlotCache, TierCopier, TierStats
from runtime.engine.tier_host import HostAllocator


@dataclass(frozen=True)
class KVLayout:
    """Shape and encoding of one layer's blocks."""

    block_size: int
    num_kv_heads: int
    head_dim: int
    dtype: torch.dtype
    """The model's compute dtype."""
    fp8: bool
    storage_dtype: torch.dtype | None = None
    """Unquantized storage dtype (default: ``dtype``); ignored for FP8."""

    @property
    def plain_dtype(self) -> torch.dtype:
        return self.storage_dtype or self.dtype


def make_storage(layout: KVLayout, num_blocks: int, device: torch.device, summary: bool,
                 host: HostAllocator | None = None) -> LayerStorage:
    """One layer's storage on ``device``, or on the host through ``host``'s allocator."""
    shape = (num_blocks, layout.block_size, layout.num_kv_heads, layout.head_dim)
    if layout.fp8:
        tensors = None
        if host is not None:
            specs = Fp8LayerKV.tensor_specs(num_blocks, layout.block_size, layout.num_kv_heads, layout.head_dim)
            tensors = {name: host.zeros(spec_shape, dtype) for name, (spec_shape, dtype) in specs.items()}
        return Fp8LayerKV(num_blocks, layout.block_size, layout.num_kv_heads, layout.head_dim, layout.dtype,
                          device, summary, storage=tensors)
    k = host.zeros(shape, layout.plain_dtype) if host is not None else None
    v = host.zeros(shape, layout.plain_dtype) if host is not None else None
    return LayerKV(num_blocks, layout.block_size, layout.num_kv_heads, layout.head_dim, layout.plain_dtype, device,
                   summary, k=k, v=v, compute_dtype=layout.dtype)


class TieredLayerKV:
    """One layer: host home storage, a device slot cache, and device-resident summaries."""

    def __init__(self, host: LayerStorage, gpu: LayerStorage, summary: BlockSummary, copier: TierCopier,
                 stats: TierStats, device: torch.device) -> None:
        self.host, self.gpu, self.summary = host, gpu, summary
        self.block_size, self.num_blocks = host.block_size, host.num_blocks
        self.slots = SlotCache(gpu.num_blocks)
        self.copier, self.stats, self.device = copier, stats, device
        self._last_read: torch.cuda.Event | None = None

    def resident_slots(self, blocks: torch.Tensor, load: torch.Tensor | None = None) -> torch.Tensor:
        """Device slots [n] holding distinct ``blocks`` [n], copying in misses (those ``load`` allows)."""
        block_list = blocks.tolist()
        slots, missed = self.slots.assign(block_list)
        self.stats.hits += len(block_list) - len(missed)
        self.stats.misses += len(missed)
        slot_t = torch.tensor(slots, dtype=torch.long)
        if load is not None and missed:
            load_list = load.tolist()
            missed = [i for i in missed if load_list[i]]
        if missed:
            miss = torch.tensor(missed, dtype=torch.long)
            data = self.host.read_blocks(blocks.cpu()[miss])
            self.stats.bytes_to_gpu += sum(t.numel() * t.element_size() for t in data.values())
            self.copier.to_device(self.gpu, slot_t[miss], data, self._last_read)
        return slot_t.to(self.device)

    def resolve(self, block_ids: torch.Tensor) -> torch.Tensor:
        """Device slots for ``block_ids`` (any shape), copied in as needed; call :meth:`mark_read` after reading."""
        uniq, inverse = torch.unique(block_ids, return_inverse=True)
        return self.resident_slots(uniq.cpu())[inverse.to(self.device)]

    def mark_read(self) -> None:
        """Record that the reads enqueued so far are the last ones of the current slots."""
        self._last_read = self.copier.read_done()

    def write(self, k: torch.Tensor, v: torch.Tensor, slot_mapping: torch.Tensor) -> None:
        bs = self.block_size
        self.summary.update(k, slot_mapping)
        blocks = torch.div(slot_mapping, bs, rounding_mode="floor")
        offsets = slot_mapping % bs
        uniq, inverse = torch.unique(blocks, return_inverse=True)
        # A block whose write starts at offset 0 is new: nothing of it needs fetching first.
        first = torch.full_like(uniq, bs).scatter_reduce(0, inverse, offsets, "amin")
        slots = self.resident_slots(uniq.cpu(), load=(first != 0).cpu())
        self.gpu.write(k, v, slots[inverse] * bs + offsets)
        data = self.gpu.read_blocks(slots)
        self.stats.bytes_to_host += sum(t.numel() * t.element_size() for t in data.values())
        self.host.write_blocks(uniq.cpu(), {name: t.cpu() for name, t in data.items()})

    def gather(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.gpu.gather(self.resolve(block_ids))
        self.mark_read()
        return out

    def gather_heads(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.gpu.gather_heads(self.resolve(block_ids))
        self.mark_read()
        return out

    def read_blocks(self, block_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """Home copies (bit-exact with what the GPU held when last written) plus summaries."""
        return {**self.host.read_blocks(block_ids.cpu()), **self.summary.read(block_ids.to(self.device))}

    def write_blocks(self, block_ids: torch.Tensor, data: dict[str, torch.Tensor]) -> None:
        self.host.write_blocks(block_ids.cpu(), {n: t for n, t in data.items() if n not in ("kmin", "kmax")})
        if "kmin" in data:
            self.summary.write(block_ids, data)
        self.slots.discard(block_ids.tolist())  # stale device copies must be refetched


class TierSet:
    """What the tiered layers share, and the occupancy the server reports."""

    def __init__(self, layers: list[TieredLayerKV], host: HostAllocator, stats: TierStats, offload: str) -> None:
        self.layers, self.host, self.stats, self.offload = layers, host, stats, offload

    def occupancy(self) -> dict[str, float]:
        slots_total = sum(layer.slots.num_slots for layer in self.layers)
        slots_used = sum(len(layer.slots) for layer in self.layers)
        return {
            "gpu_slots_used": slots_used, "gpu_slots_total": slots_total,
            "host_bytes": self.host.bytes_allocated, "gpu_hits": self.stats.hits,
            "gpu_misses": self.stats.misses, "gpu_hit_rate": self.stats.hit_rate,
            "bytes_to_gpu": self.stats.bytes_to_gpu, "bytes_to_host": self.stats.bytes_to_host,
        }


def tiered_cache(num_layers: int, layout: KVLayout, num_blocks: int, gpu_slots: int, device: torch.device,
                 offload: str, disk_dir: Path | None) -> PagedKVCache:
    """A cache whose ``num_blocks`` logical blocks live on the host (RAM, or a file for ``disk``)."""
    host = HostAllocator(pin=offload == "cpu", directory=disk_dir if offload == "disk" else None)
    copier, stats = TierCopier(device), TierStats()
    layers = [
        TieredLayerKV(
            make_storage(layout, num_blocks, torch.device("cpu"), summary=False, host=host),
            make_storage(layout, gpu_slots, device, summary=False),
            BlockSummary(num_blocks, layout.block_size, layout.num_kv_heads, layout.head_dim, layout.dtype, device),
            copier, stats, device,
        )
        for _ in range(num_layers)
    ]
    return PagedKVCache(list(layers), layout.block_size, num_blocks, tiers=TierSet(layers, host, stats, offload))


def device_cache(num_layers: int, layout: KVLayout, num_blocks: int, device: torch.device, summary: bool) -> PagedKVCache:
    """All blocks on ``device`` (``--kv-offload none``)."""
    layers = [make_storage(layout, num_blocks, device, summary) for _ in range(num_layers)]
    return PagedKVCache(layers, layout.block_size, num_blocks)


def bytes_per_block(num_layers: int, layout: KVLayout, summary: bool) -> int:
    """Device bytes one block costs across all layers (storage, scales, summaries)."""
    if layout.fp8:
        size = Fp8LayerKV.bytes_per_block(num_layers, layout.block_size, layout.num_kv_heads, layout.head_dim)
    else:
        size = PagedKVCache.bytes_per_block(num_layers, layout.block_size, layout.num_kv_heads, layout.head_dim,
                                            layout.plain_dtype)
    if summary:
        size += 2 * num_layers * layout.num_kv_heads * layout.head_dim * torch.empty((), dtype=layout.dtype).element_size()
    return size
