"""Continuous batching: which requests run in the next model step, and how many tokens each.

Every step first advances running requests (one decode token, or the next prefill chunk), then
admits waiting ones while the step's token budget, the sequence limit and the KV pool allow.
A request that cannot get blocks preempts the most recently admitted one, which will be
recomputed later; finished and aborted requests free their blocks immediately.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from runtime.engine.kv_cache_manager import KVCacheManager
from runtime.engine.request import Request, RequestStatus


@dataclass
class ScheduledChunk:
    request: Request
    num_tokens: int
    """Tokens of ``request.token_ids`` computed this step, from ``num_computed_tokens`` on."""


@dataclass
class SchedulerOutput:
    chunks: list[ScheduledChunk] = field(default_factory=list)
    preempted: list[Request] = field(default_factory=list)

    @property
    def is_decode(self) -> bool:
        return all(c.num_tokens == 1 for c in self.chunks)


class Scheduler:
    """Holds the waiting queue and the running set; plans each step."""

    def __init__(self, kv: KVCacheManager, max_num_seqs: int, max_num_batched_tokens: int) -> None:
        self.kv = kv
        self.max_num_seqs = max_num_seqs
        self.max_num_batched_tokens = max_num_batched_tokens
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self._by_id: dict[str, Request] = {}

    def add(self, request: Request) -> None:
        self.waiting.append(request)
        self._by_id[request.request_id] = request

    def adopt(self, request: Request) -> None:
        """Add a request whose KV blocks are already allocated and filled (a resumed session)."""
        request.status = RequestStatus.RUNNING
        self.running.append(request)
        self._by_id[request.request_id] = request

    def get(self, request_id: str) -> Request | None:
        return self._by_id.get(request_id)

    @property
    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def schedule(self) -> SchedulerOutput:
        out = SchedulerOutput()
        budget = self.max_num_batched_tokens
        i = 0
        while i < len(self.running) and budget > 0:
            req = self.running[i]
            n = min(req.num_tokens - req.num_computed_tokens, budget)
            if self.kv.allocate(req.request_id, req.num_computed_tokens + n):
                out.chunks.append(ScheduledChunk(req, n))
                budget -= n
                i += 1
                continue
            victim = self.running.pop()
            self._preempt(victim)
            out.preempted.append(victim)
            if victim is req:
                break
        if out.preempted:  # the pool is tight: admit nothing new this step
            return out
        while self.waiting and budget > 0 and len(self.running) < self.max_num_seqs:
            req = self.waiting[0]
            prefix = self.kv.cached_prefix(req.token_ids) if req.num_computed_tokens == 0 else []
            computed = len(prefix) * self.kv.block_size
            n = min(req.num_tokens - computed, budget)
            if not self.kv.allocate(req.request_id, computed + n, prefix):
                break
            self.waiting.popleft()
            req.num_computed_tokens = computed
            req.num_cached_prompt_tokens = computed
            req.status = RequestStatus.RUNNING
            self.running.append(req)
            out.chunks.append(ScheduledChunk(req, n))
            budget -= n
        return out

    def _preempt(self, req: Request) -> None:
        self.kv.free(req.request_id)
        req.num_computed_tokens = 0
        req.status = RequestStatus.WAITING
        self.waiting.appendleft(req)

    def finish(self, req: Request, reason: str, error: str | None = None) -> None:
        """Mark ``req`` finished and release its blocks (finish, abort or failure)."""
        if req.status is RequestStatus.FINISHED:
            return
        self.kv.free(req.request_id)
        if req.status is RequestStatus.RUNNING:
            self.running.remove(req)
        else:
            self.waiting.remove(req)
        req.status = RequestStatus.FINISHED
        req.finish_reason, req.error = reason, error
        self._by_id.pop(req.request_id, None)
