"""The engine: requests in, text out, one scheduled model step at a time."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from runtime.engine.block_pool import BlockPool
from runtime.engine.detok import IncrementalDetokenizer, StopStringMatcher
from runtime.engine.errors import ContextLengthError, EngineError, RequestError
from runtime.engine.kv_cache_manager import KVCacheManager
from runtime.engine.kv_setup import build_kv
from runtime.engine.loaded import LoadedModel
from runtime.engine.request import Request, RequestOutput
from runtime.engine.runner import ModelRunner
from runtime.engine.sampling import SamplingParams, sample_token
from runtime.engine.scheduler import Scheduler
from runtime.engine.settings import EngineSettings, resolve_device, resolve_dtype

log = logging.getLogger(__name__)
_DETOK_CONTEXT = 4  # prompt tokens the detokenizer sees so the first delta decodes in context


@dataclass
class GenerationResult:
    """A finished request."""

    text: str
    token_ids: list[int]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0


class Engine:
    """A loaded model with its KV cache, scheduler and runner."""

    def __init__(self, loaded: LoadedModel, settings: EngineSettings, device: torch.device, dtype: torch.dtype) -> None:
        self.loaded, self.settings, self.device, self.dtype = loaded, settings, device, dtype
        self.tokenizer, self.chat_template, self.name = loaded.tokenizer, loaded.chat_template, loaded.name
        cfg = loaded.config
        bs = settings.block_size
        budget = settings.max_num_batched_tokens or (8192 if device.type == "cuda" else 512)
        plan = build_kv(cfg, settings, device, dtype, budget)
        num_blocks, self.sparse = plan.num_blocks, plan.sparse
        self.max_model_len = min(cfg.max_context, settings.max_model_len or cfg.max_context, num_blocks * bs)
        # One extra block is scratch space for padded rows; the pool never hands it out.
        self.cache = plan.cache
        self.pool = BlockPool(num_blocks)
        self.kv = KVCacheManager(self.pool, bs, settings.enable_prefix_caching)
        self.scheduler = Scheduler(self.kv, settings.max_num_seqs, budget)
        self.runner = ModelRunner(
            loaded.model, self.cache, self.kv, device, scratch_block=num_blocks,
            max_blocks_per_seq=-(-self.max_model_len // bs), max_batch=settings.max_num_seqs,
            cuda_graphs=settings.cuda_graphs, sparse=self.sparse,
        )
        self._ids = itertools.count()
        self._seed_source = torch.Generator().manual_seed(torch.initial_seed() % (2**63))

    @classmethod
    def load(cls, ref: str, settings: EngineSettings | None = None) -> Engine:
        """Load a GGUF path, a Hugging Face folder or a pulled model name."""
        from runtime.engine.loader import load_model

        settings = settings or EngineSettings()
        device = resolve_device(settings.device)
        dtype = resolve_dtype(settings.dtype, device)
        return cls(load_model(ref, dtype, device), settings, device, dtype)

    # -- requests -------------------------------------------------------------------------
    def add_request(self, prompt: str | list[int], params: SamplingParams | None = None,
                    request_id: str | None = None) -> str:
        """Queue a prompt (text, encoded with special tokens, or token ids); return its id."""
        params = params or SamplingParams()
        ids = self.check_request(prompt, params)
        request_id = request_id or f"req-{next(self._ids)}"
        seed = params.seed if params.seed is not None else int(torch.randint(0, 2**62, (1,), generator=self._seed_source))
        req = Request(
            request_id=request_id, prompt_token_ids=ids, params=params,
            detokenizer=IncrementalDetokenizer(self.tokenizer.decode, ids[-_DETOK_CONTEXT:]),
            stop_matcher=StopStringMatcher(params.stop),
            generator=None if params.greedy else torch.Generator().manual_seed(seed),
        )
        self.scheduler.add(req)
        return request_id

    def check_request(self, prompt: str | list[int], params: SamplingParams) -> list[int]:
        """Validate a request without queueing it (safe from any thread); return its token ids."""
        params.validate()
        ids = self.tokenizer.encode(prompt) if isinstance(prompt, str) else list(prompt)
        if not ids:
            raise RequestError("the prompt is empty")
        if len(ids) >= self.max_model_len:
            raise ContextLengthError(
                f"the prompt has {len(ids)} tokens; the context window is {self.max_model_len} tokens"
            )
        if any(not 0 <= t < self.loaded.config.vocab_size for t in ids):
            raise RequestError("the prompt contains token ids outside the vocabulary")
        return ids

    def abort(self, request_id: str) -> bool:
        """Stop a request and free its KV blocks; False if it is unknown or already done."""
        req = self.scheduler.get(request_id)
        if req is None:
            return False
        self.scheduler.finish(req, "abort")
        return True

    def suspend(self, request_id: str, path: Path | None = None) -> Path:
        """Write a running request's KV and state to disk and free its blocks; return the file."""
        from runtime.engine.sessions import suspend

        return suspend(self, request_id, path or self.settings.disk_dir() / "sessions" / f"{request_id}.kv")

    def resume(self, path: Path) -> str:
        """Continue a suspended request from its file without recomputing its context; return its id."""
        from runtime.engine.sessions import resume

        return resume(self, path)

    def kv_status(self) -> dict[str, Any]:
        """KV storage and tier occupancy (for /health and /metrics)."""
        out: dict[str, Any] = {
            "kv_dtype": self.settings.kv_dtype, "kv_offload": self.settings.kv_offload,
            "sparse_budget": self.settings.sparse_budget, "blocks_total": self.pool.num_blocks,
            "blocks_free": self.pool.num_free, "block_size": self.cache.block_size,
            "device_kv_bytes": self.cache.device_bytes(),
        }
        tiers = self.cache.tiers
        if tiers is not None:
            out.update(tiers.occupancy())
        return out

    def has_unfinished(self) -> bool:
        return self.scheduler.has_work

    @property
    def num_free_blocks(self) -> int:
        return self.pool.num_free

    # -- stepping -------------------------------------------------------------------------
    def step(self) -> list[RequestOutput]:
        """Run one scheduled model step; return what each touched request produced."""
        plan = self.scheduler.schedule()
        if not plan.chunks:
            return []
        try:
            chunk_idx, logits = self.runner.execute(plan.chunks)
        except (torch.OutOfMemoryError, RuntimeError, EngineError) as exc:
            return self._fail_step(plan.chunks, exc)
        outputs: list[RequestOutput] = []
        for chunk in plan.chunks:
            chunk.request.num_computed_tokens += chunk.num_tokens
            self.kv.commit(chunk.request.request_id, chunk.request.token_ids, chunk.request.num_computed_tokens)
        logits_cpu = logits.cpu()
        for row, ci in enumerate(chunk_idx):
            req = plan.chunks[ci].request
            seen = torch.tensor(req.token_ids) if req.params.repetition_penalty != 1.0 else torch.empty(0, dtype=torch.long)
            token = sample_token(logits_cpu[row], req.params, seen, req.generator)
            outputs.append(self._append(req, token))
        return outputs

    def _fail_step(self, chunks: list, exc: BaseException) -> list[RequestOutput]:
        # Blame the requests that brought new prompt work (the likely cause of an OOM); if the
        # step was pure decode, every request in it fails. The others retry next step.
        prefill = [c.request for c in chunks if c.num_tokens > 1]
        victims = prefill or [c.request for c in chunks]
        oom = isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()
        message = "out of memory while running this request" if oom else f"engine error: {exc}"
        log.warning("step failed (%s); failing %d request(s)", exc, len(victims))
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        outs = []
        for req in victims:
            self.scheduler.finish(req, "error", message)
            outs.append(RequestOutput(req.request_id, finished=True, finish_reason="error", error=message,
                                      prompt_tokens=len(req.prompt_token_ids), completion_tokens=req.num_output_tokens))
        return outs

    def _append(self, req: Request, token: int) -> RequestOutput:
        req.token_ids.append(token)
        params = req.params
        reason: str | None = None
        text = ""
        hit_stop_string = False
        if (token in self.tokenizer.eos_token_ids and not params.ignore_eos) or token in params.stop_token_ids:
            reason = "stop"
        else:
            text, hit_stop_string = req.stop_matcher.feed(req.detokenizer.add(token))
            if hit_stop_string:
                reason = "stop"
        if reason is None and (req.num_output_tokens >= params.max_tokens or req.num_tokens >= self.max_model_len):
            reason = "length"
        if reason is not None and not hit_stop_string:
            # Release text held back for a possible multi-byte character or stop string.
            tail, hit = req.stop_matcher.feed(req.detokenizer.flush())
            text += tail + ("" if hit else req.stop_matcher.flush())
        if reason is not None:
            self.scheduler.finish(req, reason)
        return RequestOutput(
            req.request_id, text=text, token_ids=[token], finished=reason is not None, finish_reason=reason,
            prompt_tokens=len(req.prompt_token_ids), completion_tokens=req.num_output_tokens,
        )

    def generate(self, prompt: str | list[int], params: SamplingParams | None = None) -> GenerationResult:
        """Run one request to completion (blocking); other queued requests advance too."""
        rid = self.add_request(prompt, params)
        req = self.scheduler.get(rid)
        assert req is not None
        parts: list[str] = []
        while True:
            for out in self.step():
                if out.request_id != rid:
                    continue
                parts.append(out.text)
                if out.finished:
                    if out.error:
                        raise RequestError(out.error)
                    return GenerationResult(
                        "".join(parts), req.output_token_ids, out.finish_reason or "stop",
                        out.prompt_tokens, out.completion_tokens, req.num_cached_prompt_tokens,
                    )
