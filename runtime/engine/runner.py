"""Turns a scheduled step into tensors, runs the model, returns logits of the rows to sample.

On CUDA, pure-decode steps are captured once per (batch, context) bucket as CUDA graphs and
replayed; everything else (and every step on CPU) runs eagerly. Steps that need host decisions
(tier copies, block-sparse selection of a sequence past its budget) always run eagerly.
"""

from __future__ import annotations

import logging

import torch

from runtime.engine.attention import AttentionMetadata
from runtime.engine.block_select import SparseConfig
from runtime.engine.kv_cache import PagedKVCache
from runtime.engine.kv_cache_manager import KVCacheManager
from runtime.engine.model import CausalLM
from runtime.engine.scheduler import ScheduledChunk
from runtime.engine.sparse_attention import needs_sparse

log = logging.getLogger(__name__)


def _bucket(n: int, cap: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return min(size, cap)


class ModelRunner:
    """Owns the model and the KV storage; knows nothing of scheduling policy."""

    def __init__(
        self, model: CausalLM, cache: PagedKVCache, kv: KVCacheManager, device: torch.device,
        scratch_block: int, max_blocks_per_seq: int, max_batch: int, cuda_graphs: bool,
        sparse: SparseConfig | None = None,
    ) -> None:
        self.model, self.cache, self.kv, self.device = model, cache, kv, device
        self.scratch_block = scratch_block
        self.max_blocks_per_seq = max_blocks_per_seq
        self.max_batch = max_batch
        self.use_graphs = cuda_graphs and device.type == "cuda" and cache.tiers is None
        self.sparse = sparse
        self.tokens_computed = 0
        """Tokens run through the model so far (prefill and decode)."""
        self._graphs: dict[tuple[int, int], _DecodeGraph] = {}

    @torch.inference_mode()
    def execute(self, chunks: list[ScheduledChunk]) -> tuple[list[int], torch.Tensor]:
        """Run one step; return (indices of chunks that produced logits, logits [N, vocab] float32)."""
        bs = self.cache.block_size
        ids: list[int] = []
        positions: list[int] = []
        slots: list[int] = []
        tables: list[list[int]] = []
        sample_rows: list[int] = []
        sample_chunks: list[int] = []
        for ci, chunk in enumerate(chunks):
            req, start = chunk.request, chunk.request.num_computed_tokens
            table = self.kv.block_ids(req.request_id)
            ids.extend(req.token_ids[start : start + chunk.num_tokens])
            for p in range(start, start + chunk.num_tokens):
                positions.append(p)
                slots.append(table[p // bs] * bs + p % bs)
            tables.append(table)
            if start + chunk.num_tokens == req.num_tokens:
                sample_rows.append(len(ids) - 1)
                sample_chunks.append(ci)
        context_lens = [c.request.num_computed_tokens + c.num_tokens for c in chunks]
        is_decode = all(c.num_tokens == 1 for c in chunks)
        self.tokens_computed += len(ids)
        sparse_now = self.sparse is not None and needs_sparse(max(context_lens), self.sparse, bs)
        if is_decode and self.use_graphs and not sparse_now and len(chunks) <= self.max_batch:
            try:
                return sample_chunks, self._graph_decode(ids, positions, slots, tables, context_lens)
            except RuntimeError as exc:  # capture unsupported here: decode eagerly from now on
                log.warning("CUDA graph decode failed (%s); decoding eagerly", exc)
                self.use_graphs = False
                self._graphs.clear()
        width = max(len(t) for t in tables)
        block_tables = torch.tensor([t + [self.scratch_block] * (width - len(t)) for t in tables], dtype=torch.long)
        meta = AttentionMetadata(
            slot_mapping=torch.tensor(slots, dtype=torch.long, device=self.device),
            query_lens=[c.num_tokens for c in chunks], context_lens=context_lens,
            block_tables=block_tables.to(self.device),
            context_lens_t=torch.tensor(context_lens, dtype=torch.long, device=self.device),
            is_decode=is_decode, sparse=self.sparse,
        )
        hidden = self.model(
            torch.tensor(ids, dtype=torch.long, device=self.device),
            torch.tensor(positions, dtype=torch.long, device=self.device), self.cache, meta,
        )
        rows = torch.tensor(sample_rows, dtype=torch.long, device=self.device)
        return sample_chunks, self.model.logits(hidden[rows])

    def _graph_decode(
        self, ids: list[int], positions: list[int], slots: list[int], tables: list[list[int]], lens: list[int]
    ) -> torch.Tensor:
        batch = _bucket(len(ids), self.max_batch)
        width = _bucket(max(len(t) for t in tables), self.max_blocks_per_seq)
        key = (batch, width)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._graphs[key] = _DecodeGraph(self, batch, width)
        return graph.run(ids, positions, slots, tables, lens)[: len(ids)]


class _DecodeGraph:
    """Static buffers and one captured decode step for a fixed batch size and table width."""

    def __init__(self, runner: ModelRunner, batch: int, width: int) -> None:
        dev, bs = runner.device, runner.cache.block_size
        self.runner, self.batch, self.width = runner, batch, width
        self.ids = torch.zeros(batch, dtype=torch.long, device=dev)
        self.positions = torch.zeros(batch, dtype=torch.long, device=dev)
        self.slots = torch.full((batch,), runner.scratch_block * bs, dtype=torch.long, device=dev)
        self.tables = torch.full((batch, width), runner.scratch_block, dtype=torch.long, device=dev)
        self.lens = torch.ones(batch, dtype=torch.long, device=dev)
        self.meta = AttentionMetadata(self.slots, [1] * batch, [1] * batch, self.tables, self.lens, True)
        stream = torch.cuda.Stream(dev)
        stream.wait_stream(torch.cuda.current_stream(dev))
        with torch.cuda.stream(stream):  # warm up kernels outside the capture
            for _ in range(2):
                self._forward()
        torch.cuda.current_stream(dev).wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = self._forward()

    def _forward(self) -> torch.Tensor:
        r = self.runner
        return r.model.logits(r.model(self.ids, self.positions, r.cache, self.meta))

    def run(self, ids: list[int], positions: list[int], slots: list[int], tables: list[list[int]], lens: list[int]) -> torch.Tensor:
        n, bs = len(ids), self.runner.cache.block_size
        scratch = self.runner.scratch_block
        self.ids.zero_()
        self.positions.zero_()
        self.slots.fill_(scratch * bs)
        self.lens.fill_(1)
        self.tables.fill_(scratch)
        self.ids[:n] = torch.tensor(ids)
        self.positions[:n] = torch.tensor(positions)
        self.slots[:n] = torch.tensor(slots)
        self.lens[:n] = torch.tensor(lens)
        padded = [t + [scratch] * (self.width - len(t)) for t in tables]
        self.tables[:n] = torch.tensor(padded)
        self.graph.replay()
        return self.out
