"""Suspend a running sequence to disk and resume it later, in this engine or a fresh one.

Suspending writes the sequence's KV blocks (every layer, exact bytes), its tokens, sampling
parameters and sampler state to one file, then frees its blocks. Resuming allocates blocks,
loads them, and puts the request back in the running set with its progress intact: the next
step decodes, with no prefill of the saved context.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from runtime.engine.detok import IncrementalDetokenizer, StopStringMatcher
from runtime.engine.errors import EngineError, RequestError
from runtime.engine.request import Request
from runtime.engine.sampling import SamplingParams
from runtime.engine.tier_disk import load_blocks, read_metadata, save_blocks

if TYPE_CHECKING:
    from runtime.engine.engine import Engine

_DETOK_CONTEXT = 4


def suspend(engine: Engine, request_id: str, path: Path) -> Path:
    """Save request ``request_id``'s state to ``path`` and release it from the engine."""
    req = engine.scheduler.get(request_id)
    if req is None:
        raise RequestError(f"no unfinished request {request_id!r}")
    computed = req.num_computed_tokens
    blocks = engine.kv.block_ids(request_id)[: -(-computed // engine.cache.block_size)]
    meta = {
        "request_id": request_id, "model": engine.name, "kv_dtype": engine.settings.kv_dtype,
        "block_size": str(engine.cache.block_size), "num_layers": str(len(engine.cache.layers)),
        "num_computed_tokens": str(computed), "token_ids": json.dumps(req.token_ids),
        "num_prompt_tokens": str(len(req.prompt_token_ids)),
        "params": json.dumps(dataclasses.asdict(req.params)),
        "summaries": "1" if engine.cache.layers[0].summary is not None else "0",
    }
    extra = {"generator_state": req.generator.get_state()} if req.generator is not None else {}
    save_blocks(path, engine.cache.layers, blocks, meta, extra)
    engine.scheduler.finish(req, "suspended")
    return path


def resume(engine: Engine, path: Path) -> str:
    """Load a suspended request from ``path`` into ``engine``; return its id."""
    meta = read_metadata(path)
    expect = {"kv_dtype": engine.settings.kv_dtype, "block_size": str(engine.cache.block_size),
              "num_layers": str(len(engine.cache.layers))}
    for key, value in expect.items():
        if meta.get(key) != value:
            raise EngineError(f"{path}: saved with {key}={meta.get(key)}, this engine has {key}={value}")
    if engine.cache.layers[0].summary is not None and meta.get("summaries") != "1":
        raise EngineError(f"{path}: saved without block summaries, which sparse attention needs; "
                          "resume it with --sparse-budget 0")
    request_id = meta["request_id"]
    if engine.scheduler.get(request_id) is not None:
        raise RequestError(f"request {request_id!r} is already in the engine")
    if len(engine.scheduler.running) >= engine.scheduler.max_num_seqs:
        raise EngineError("the engine is running its maximum number of sequences; resume later")
    token_ids = [int(t) for t in json.loads(meta["token_ids"])]
    prompt = token_ids[: int(meta["num_prompt_tokens"])]
    computed = int(meta["num_computed_tokens"])
    params = SamplingParams(**json.loads(meta["params"]))
    req = Request(
        request_id=request_id, prompt_token_ids=prompt, params=params, token_ids=list(token_ids),
        detokenizer=IncrementalDetokenizer(engine.tokenizer.decode, token_ids[-_DETOK_CONTEXT:]),
        stop_matcher=StopStringMatcher(params.stop),
        generator=None if params.greedy else torch.Generator(),
    )
    if not engine.kv.allocate(request_id, computed):
        raise EngineError(f"not enough free KV blocks to resume {computed} tokens")
    try:
        extra = load_blocks(path, engine.cache.layers, engine.kv.block_ids(request_id))
    except BaseException:
        engine.kv.free(request_id)
        raise
    if req.generator is not None and "generator_state" in extra:
        req.generator.set_state(extra["generator_state"])
    req.num_computed_tokens = computed
    engine.scheduler.adopt(req)
    return request_id
