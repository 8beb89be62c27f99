"""Million-token contexts: FP8 KV, host/disk tiers with a GPU block cache, block-sparse attention.

Llama-3.1-8B-shaped random-weight model in bf16, batch 1, contexts 128K / 512K / 1M on a GPU:
prefill time, decode tok/s, peak GPU memory, host memory, GPU-cache hit rate during decode;
Hugging Face transformers (bf16 DynamicCache, SDPA) measured in the same run where it fits.
``--small`` runs a small Llama shape at small contexts on CPU to prove the whole path runs.
One JSON line per measurement, plus a ratio line against transformers.

    python bench/longctx_bench.py                         # GPU: 131072 524288 1048576
    python bench/longctx_bench.py --small                 # CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

import torch
from engine_bench import (
    LLAMA_8B,
    SMALL,
    _config,
    _peak_mb,
    _reset_peak,
    _sync,
    bench_transformers,
)
from tokenizers import Tokenizer, models

from runtime.engine.chat_template import ChatTemplate
from runtime.engine.config import ModelConfig
from runtime.engine.engine import Engine
from runtime.engine.loaded import LoadedModel
from runtime.engine.model import CausalLM, init_random_
from runtime.engine.sampling import SamplingParams
from runtime.engine.settings import EngineSettings
from runtime.engine.tokenizer import EngineTokenizer


def _host_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_engram(cfg: ModelConfig, dtype: torch.dtype, device: torch.device, ctx: int, steps: int,
                 settings: dict[str, Any]) -> dict[str, Any]:
    _reset_peak(device)
    with torch.device(device):
        model = CausalLM(cfg).to(dtype)
    init_random_(model)
    model.reset_rope_(device)
    model.eval().requires_grad_(False)
    loaded = LoadedModel("bench", cfg, model, EngineTokenizer(Tokenizer(models.BPE()), eos_token_ids=set()),
                         ChatTemplate(None))
    engine = Engine(loaded, EngineSettings(device=str(device), max_num_seqs=1, enable_prefix_caching=False,
                                           kv_cache_tokens=ctx + steps + 64, **settings), device, dtype)
    gen = torch.Generator().manual_seed(0)
    engine.add_request(torch.randint(0, cfg.vocab_size, (ctx,), generator=gen).tolist(),
                       SamplingParams(max_tokens=steps + 1, temperature=0, ignore_eos=True))
    _sync(device)
    t0 = time.perf_counter()
    while not engine.step():  # prefill chunks produce no output until the last one
        pass
    _sync(device)
    t1 = time.perf_counter()
    before = engine.kv_status()
    decoded = 0
    while engine.has_unfinished():
        decoded += len(engine.step())
    _sync(device)
    t2 = time.perf_counter()
    after = engine.kv_status()
    hits = after.get("gpu_hits", 0) - before.get("gpu_hits", 0)
    misses = after.get("gpu_misses", 0) - before.get("gpu_misses", 0)
    result = {
        "prefill_s": t1 - t0, "prefill_tok_s": ctx / (t1 - t0), "decode_tok_s": decoded / (t2 - t1),
        "peak_mem_mb": _peak_mb(device), "host_peak_rss_mb": _host_mb(),
        "decode_gpu_hit_rate": hits / (hits + misses) if hits + misses else None,
        "gpu_slots_per_layer": after.get("gpu_slots_total", 0) // max(1, cfg.num_layers) or None,
        "host_kv_mb": after.get("host_bytes", 0) / 2**20, "device_kv_mb": after["device_kv_bytes"] / 2**20,
    }
    del engine, loaded, model
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="Small shape at small contexts (CPU smoke run).")
    ap.add_argument("--contexts", type=int, nargs="+")
    ap.add_argument("--decode-steps", type=int)
    ap.add_argument("--kv-dtype", default="fp8", choices=["auto", "bf16", "fp8"])
    ap.add_argument("--kv-offload", default="cpu", choices=["none", "cpu", "disk"])
    ap.add_argument("--sparse-budget", type=int)
    ap.add_argument("--gpu-kv-gib", type=float)
    ap.add_argument("--sparse-refine", type=int, default=2, help="Shortlist factor of sparse decode.")
    ap.add_argument("--sparse-prefill-budget", type=int, help="Default: the engine's (4096); --small: the budget.")
    ap.add_argument("--block-size", type=int, default=16)
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args()
    gpu = torch.cuda.is_available() and not args.small
    device = torch.device("cuda" if gpu else "cpu")
    dtype = torch.bfloat16 if gpu else torch.float32
    shape, shape_name = (SMALL, "small") if args.small else (LLAMA_8B, "llama8b")
    contexts = args.contexts or ([1024, 4096] if args.small else [131072, 524288, 1048576])
    steps = args.decode_steps or (8 if args.small else 64)
    budget = args.sparse_budget if args.sparse_budget is not None else (256 if args.small else 2048)
    cfg = _config(shape, max(max(contexts) + steps + 64, 131072))
    elt = torch.empty((), dtype=dtype).element_size()
    hf_kv_bytes_per_token = 2 * cfg.num_layers * cfg.num_kv_heads * cfg.head_dim * elt
    summary_bytes_per_token = hf_kv_bytes_per_token / args.block_size  # min + max per block = 2 tokens' worth
    for ctx in contexts:
        # GPU tier default: the block summaries plus 2.5 GiB of block slots (a few thousand blocks per layer),
        # which holds a refine-2 shortlist of a 2048-token budget for all 8 KV heads (refine 8 needs ~8 GiB).
        gib = args.gpu_kv_gib or (0.004 if args.small else summary_bytes_per_token * ctx / 2**30 + 2.5)
        settings: dict[str, Any] = {"kv_dtype": args.kv_dtype, "kv_offload": args.kv_offload, "sparse_budget": budget,
                                    "gpu_kv_gib": gib if args.kv_offload != "none" else args.gpu_kv_gib,
                                    "block_size": args.block_size,
                                    "sparse_refine": args.sparse_refine,
                                    "sparse_prefill_budget": args.sparse_prefill_budget or (budget if args.small else 4096)}
        if args.small:
            settings["max_num_batched_tokens"] = 512
        common = {"bench": "longctx", "device": torch.cuda.get_device_name() if gpu else "cpu", "shape": shape_name,
                  "dtype": str(dtype).removeprefix("torch."), "context": ctx, "batch": 1}
        ours: dict[str, Any] = {}
        try:
            ours = bench_engram(cfg, dtype, device, ctx, steps, settings)
        except torch.OutOfMemoryError:
            ours = {"error": "out of memory"}
        print(json.dumps({**common, "impl": "engram", **settings, **_round(ours)}), flush=True)
        ref: dict[str, Any] = {}
        if not args.skip_transformers:
            free = torch.cuda.mem_get_info()[0] if gpu else None
            if free is not None and hf_kv_bytes_per_token * ctx * 1.1 > free:
                ref = {"error": "KV cache alone exceeds free GPU memory (would OOM)"}
            else:
                try:
                    ref = bench_transformers(cfg, dtype, device, ctx, 1, steps)
                except torch.OutOfMemoryError:
                    ref = {"error": "out of memory"}
            print(json.dumps({**common, "impl": "transformers", **_round(ref)}), flush=True)
        hf_kv_mb = hf_kv_bytes_per_token * ctx / 2**20
        line: dict[str, Any] = {**common, "baseline": "transformers", "hf_kv_mb": hf_kv_mb}
        if "device_kv_mb" in ours:
            line["device_kv_vs_hf_kv"] = ours["device_kv_mb"] / hf_kv_mb
        if "decode_tok_s" in ours and "decode_tok_s" in ref:
            line["decode_ratio"] = ours["decode_tok_s"] / ref["decode_tok_s"]
            line["prefill_ratio"] = ours["prefill_tok_s"] / ref["prefill_tok_s"]
        print(json.dumps(_round(line)), flush=True)


def _round(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}


if __name__ == "__main__":
    main()
