"""Prometheus exposition of the engine's state: KV blocks, tier occupancy, GPU-cache hit rate."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from runtime.engine.engine_loop import EngineLoop

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_GAUGES = {
    "blocks_total": ("engram_kv_blocks_total", "KV blocks the pool manages (host tier when offloading)."),
    "blocks_free": ("engram_kv_blocks_free", "KV blocks free or holding only reusable prefixes."),
    "gpu_slots_total": ("engram_kv_gpu_slots_total", "Block slots of the GPU tier, all layers."),
    "gpu_slots_used": ("engram_kv_gpu_slots_used", "Occupied block slots of the GPU tier, all layers."),
    "host_bytes": ("engram_kv_host_bytes", "Bytes of host (RAM or memory-mapped) KV storage."),
    "gpu_hit_rate": ("engram_kv_gpu_hit_rate", "Share of block reads served by the GPU tier since start."),
}
_COUNTERS = {
    "gpu_hits": ("engram_kv_gpu_hits", "Block reads served by the GPU tier."),
    "gpu_misses": ("engram_kv_gpu_misses", "Block reads copied in from the host tier."),
    "bytes_to_gpu": ("engram_kv_bytes_to_gpu", "Bytes copied host to GPU."),
    "bytes_to_host": ("engram_kv_bytes_to_host", "Bytes copied GPU to host."),
}


class EngineCollector(Collector):
    """Reads the loop's latest published snapshot (never the engine itself, which its thread owns)."""

    def __init__(self, loop: EngineLoop) -> None:
        self.loop = loop

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        stats = self.loop.stats
        yield GaugeMetricFamily("engram_requests_running", "Requests being decoded.", value=stats.running)
        yield GaugeMetricFamily("engram_requests_waiting", "Requests queued.", value=stats.waiting)
        kv = stats.kv
        for key, (name, doc) in _GAUGES.items():
            if key in kv:
                yield GaugeMetricFamily(name, doc, value=float(kv[key]))
        for key, (name, doc) in _COUNTERS.items():
            if key in kv:
                yield CounterMetricFamily(name, doc, value=float(kv[key]))
        info = GaugeMetricFamily("engram_kv_config", "KV storage configuration (value is always 1).",
                                 labels=["kv_dtype", "kv_offload", "sparse_budget"])
        info.add_metric([str(kv.get("kv_dtype")), str(kv.get("kv_offload")), str(kv.get("sparse_budget"))], 1.0)
        yield info


def metrics_text(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def make_registry(loop: EngineLoop) -> CollectorRegistry:
    """A registry of its own per app (no process-global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(loop))
    return registry
