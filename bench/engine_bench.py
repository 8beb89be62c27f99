"""Engine throughput vs Hugging Face transformers (SDPA, DynamicCache), same shapes, same run.

Prints one JSON line per measurement (impl = engram | transformers) and one ratio line per
(context, batch). On a GPU: a Llama-3.1-8B-shaped random-weight model in bf16 at 4K/32K/128K;
on CPU: a small Llama-shaped model at small contexts, to show the harness runs.

    python bench/engine_bench.py                      # auto: GPU shapes if CUDA, else CPU
    python bench/engine_bench.py --contexts 512 2048 --batches 1 8 --decode-steps 16
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
from typing import Any

import torch
from tokenizers import Tokenizer, models

from runtime.engine.chat_template import ChatTemplate
from runtime.engine.config import ModelConfig, RopeConfig
from runtime.engine.engine import Engine
from runtime.engine.loaded import LoadedModel
from runtime.engine.model import CausalLM, init_random_
from runtime.engine.sampling import SamplingParams
from runtime.engine.settings import EngineSettings
from runtime.engine.tokenizer import EngineTokenizer

LLAMA_8B = dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_layers=32, num_heads=32,
                num_kv_heads=8, head_dim=128, rope_theta=500000.0)
SMALL = dict(vocab_size=8192, hidden_size=512, intermediate_size=1536, num_layers=6, num_heads=8,
             num_kv_heads=2, head_dim=64, rope_theta=500000.0)


def _config(shape: dict[str, Any], max_len: int) -> ModelConfig:
    rope = RopeConfig(theta=shape["rope_theta"], type="llama3", factor=8.0, original_max_position=8192)
    return ModelConfig(family="llama", vocab_size=shape["vocab_size"], hidden_size=shape["hidden_size"],
                       intermediate_size=shape["intermediate_size"], num_layers=shape["num_layers"],
                       num_heads=shape["num_heads"], num_kv_heads=shape["num_kv_heads"], head_dim=shape["head_dim"],
                       rms_norm_eps=1e-5, max_position_embeddings=max_len, rope=rope)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process high-water mark (monotonic)


def bench_engram(cfg: ModelConfig, dtype: torch.dtype, device: torch.device, ctx: int, batch: int,
                 steps: int) -> dict[str, float]:
    _reset_peak(device)
    with torch.device(device):
        model = CausalLM(cfg).to(dtype)
    init_random_(model)
    model.reset_rope_(device)
    model.eval().requires_grad_(False)
    tok = EngineTokenizer(Tokenizer(models.BPE()), eos_token_ids=set())
    loaded = LoadedModel("bench", cfg, model, tok, ChatTemplate(None))
    settings = EngineSettings(device=str(device), block_size=16, kv_cache_tokens=batch * (ctx + steps + 16),
                              max_num_seqs=batch, max_num_batched_tokens=ctx, enable_prefix_caching=False)
    engine = Engine(loaded, settings, device, dtype)
    gen = torch.Generator().manual_seed(0)
    params = SamplingParams(max_tokens=steps + 1, temperature=0, ignore_eos=True)
    for _ in range(batch):
        engine.add_request(torch.randint(0, cfg.vocab_size, (ctx,), generator=gen).tolist(), params)
    _sync(device)
    t0 = time.perf_counter()
    produced = 0
    while produced < batch:  # prefill: until every sequence has its first token
        produced += len(engine.step())
    _sync(device)
    t1 = time.perf_counter()
    decoded = 0
    while engine.has_unfinished():
        decoded += len(engine.step())
    _sync(device)
    t2 = time.perf_counter()
    result = {"prefill_tok_s": batch * ctx / (t1 - t0), "decode_tok_s": decoded / (t2 - t1), "peak_mem_mb": _peak_mb(device)}
    del engine, loaded, model
    return result


def bench_transformers(cfg: ModelConfig, dtype: torch.dtype, device: torch.device, ctx: int, batch: int,
                       steps: int) -> dict[str, float]:
    from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

    _reset_peak(device)
    hf_cfg = LlamaConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads, num_key_value_heads=cfg.num_kv_heads,
        head_dim=cfg.head_dim, max_position_embeddings=cfg.max_position_embeddings, rms_norm_eps=cfg.rms_norm_eps,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192, "rope_theta": cfg.rope.theta},
        attn_implementation="sdpa",
    )
    with torch.device(device):
        model = LlamaForCausalLM(hf_cfg).to(dtype).eval()
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg.vocab_size, (batch, ctx), generator=gen).to(device)
    cache = DynamicCache()
    with torch.inference_mode():
        _sync(device)
        t0 = time.perf_counter()
        out = model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        _sync(device)
        t1 = time.perf_counter()
        for _ in range(steps):
            out = model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        _sync(device)
        t2 = time.perf_counter()
    result = {"prefill_tok_s": batch * ctx / (t1 - t0), "decode_tok_s": batch * steps / (t2 - t1), "peak_mem_mb": _peak_mb(device)}
    del model, out, cache
    return result


def main() -> None:
    gpu = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contexts", type=int, nargs="+", default=[4096, 32768, 131072] if gpu else [512, 2048])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--decode-steps", type=int, default=64 if gpu else 16)
    parser.add_argument("--shape", choices=["llama8b", "small"], default="llama8b" if gpu else "small")
    parser.add_argument("--skip-transformers", action="store_true")
    args = parser.parse_args()
    device = torch.device("cuda" if gpu else "cpu")
    dtype = torch.bfloat16 if gpu else torch.float32
    shape = LLAMA_8B if args.shape == "llama8b" else SMALL
    cfg = _config(shape, max(max(args.contexts) + args.decode_steps + 64, 131072))
    kv_per_token = 2 * cfg.num_layers * cfg.num_kv_heads * cfg.head_dim * torch.empty((), dtype=dtype).element_size()
    for _ in range(2):  # warm-up (kernels, allocator, thread pools) at the first measured shape
        bench_engram(cfg, dtype, device, min(args.contexts), 1, 4)
    for ctx in args.contexts:
        for batch in args.batches:
            common = {"bench": "engine", "device": torch.cuda.get_device_name() if gpu else "cpu",
                      "shape": args.shape, "dtype": str(dtype).removeprefix("torch."), "context": ctx, "batch": batch}
            if gpu:
                free, _ = torch.cuda.mem_get_info()
                if kv_per_token * batch * (ctx + args.decode_steps) * 1.2 > free:
                    print(json.dumps({**common, "skipped": "KV cache does not fit in GPU memory"}), flush=True)
                    continue
            results = {}
            impls = ["engram"] + ([] if args.skip_transformers else ["transformers"])
            for impl in impls:
                fn = bench_engram if impl == "engram" else bench_transformers
                try:
                    results[impl] = fn(cfg, dtype, device, ctx, batch, args.decode_steps)
                except torch.OutOfMemoryError:
                    results[impl] = {"error": "out of memory"}
                print(json.dumps({**common, "impl": impl, **{k: round(v, 2) if isinstance(v, float) else v
                                                            for k, v in results[impl].items()}}), flush=True)
            ours, ref = results.get("engram", {}), results.get("transformers", {})
            if "decode_tok_s" in ours and "decode_tok_s" in ref:
                print(json.dumps({**common, "baseline": "transformers",
                                  "decode_ratio": round(ours["decode_tok_s"] / ref["decode_tok_s"], 2),
                                  "prefill_ratio": round(ours["prefill_tok_s"] / ref["prefill_tok_s"], 2)}), flush=True)


if __name__ == "__main__":
    main()
