"""Passkey retrieval at several context lengths and needle depths: dense vs FP8 KV vs block-sparse.

A 5-digit passkey sits at a given depth inside filler text; the model (SmolLM2-135M-Instruct by
default, 8K context) must repeat it, greedy. Each configuration runs the same prompts through
the engine's scheduler (prefix caching shares the filler between depths). Prints one JSON line
per (configuration, context) and a summary line comparing each configuration with the dense
baseline measured in the same run (``dense-bf16``, else ``dense``); the product configuration (FP8 +
sparse, budget 512) must stay within 5 points of dense bf16 at every length.

    python bench/needle_bench.py                              # the full grid
    python bench/needle_bench.py --contexts 512 1024 --configs dense fp8-sparse512
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

import torch

from runtime.engine.engine import Engine
from runtime.engine.loader import load_model
from runtime.engine.sampling import SamplingParams
from runtime.engine.settings import EngineSettings, resolve_device, resolve_dtype

CONFIGS: dict[str, dict[str, Any]] = {
    "dense": {"kv_dtype": "auto", "sparse_budget": 0},  # the model's dtype: float32 KV on CPU
    "dense-bf16": {"kv_dtype": "bf16", "sparse_budget": 0},  # bfloat16 KV (the baseline), float32 math
    "fp8": {"kv_dtype": "fp8", "sparse_budget": 0},
    "fp8-sparse128": {"kv_dtype": "fp8", "sparse_budget": 128},
    "fp8-sparse256": {"kv_dtype": "fp8", "sparse_budget": 256},
    "fp8-sparse512": {"kv_dtype": "fp8", "sparse_budget": 512},
    "fp8-sparse1024": {"kv_dtype": "fp8", "sparse_budget": 1024},
    # The decode budget in prefill too (the default prefill budget is 4096 tokens).
    "fp8-sparse512-prefill512": {"kv_dtype": "fp8", "sparse_budget": 512, "sparse_prefill_budget": 512},
}
PRODUCT, TOLERANCE = "fp8-sparse512", 5.0
BASELINES = ("dense-bf16", "dense")  # the first one measured in the run is the baseline
INTRO = ("There is an important piece of information hidden inside a lot of irrelevant text. "
         "Find it and memorize it. I will quiz you about it.\n")
FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
NEEDLE = "The pass key is {key}. Remember it. {key} is the pass key. "
QUESTION = "\nWhat is the pass key? The pass key is"


def passkey_prompt(tokenizer: Any, context: int, depth: float, key: int) -> list[int]:
    """Token ids of a prompt of about ``context`` tokens with the passkey at ``depth`` (0..1)."""
    fixed = len(tokenizer.encode(INTRO + NEEDLE.format(key=key) + QUESTION))
    per_filler = len(tokenizer.encode(FILLER * 8)) / 8
    n = max(1, int((context - fixed) / per_filler))
    at = round(n * depth)
    text = INTRO + FILLER * at + NEEDLE.format(key=key) + FILLER * (n - at) + QUESTION
    return tokenizer.encode(text)


def run_config(engine: Engine, prompts: list[tuple[int, float, int, list[int]]]) -> list[dict[str, Any]]:
    params = SamplingParams(max_tokens=10, temperature=0, ignore_eos=False)
    ids: dict[str, tuple[int, float, int]] = {}
    for context, depth, key, tokens in prompts:
        ids[engine.add_request(tokens, params)] = (context, depth, key)
    text: dict[str, list[str]] = {rid: [] for rid in ids}
    while engine.has_unfinished():
        for out in engine.step():
            text[out.request_id].append(out.text)
            if out.error:
                raise RuntimeError(out.error)
    rows = []
    for rid, (context, depth, key) in ids.items():
        answer = "".join(text[rid])
        rows.append({"context": context, "depth": depth, "found": str(key) in answer, "answer": answer.strip()})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--contexts", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    ap.add_argument("--depths", type=int, default=10, help="Needle depths spread over 0..1.")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=4, help="Requests decoded together (the scheduler's max_num_seqs).")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    device = resolve_device(args.device)
    dtype = resolve_dtype("auto", device)
    loaded = load_model(args.model, dtype, device)
    rng = random.Random(args.seed)
    depths = [i / max(1, args.depths - 1) for i in range(args.depths)] if args.depths > 1 else [0.5]
    prompts = []
    for context in args.contexts:
        for depth in sorted(depths, reverse=True):  # deep needles first: later prompts reuse their prefix
            key = rng.randint(10000, 99999)
            prompts.append((context, depth, key, passkey_prompt(loaded.tokenizer, context, depth, key)))
    scores: dict[str, dict[int, float]] = {}
    for name in args.configs:
        settings = EngineSettings(device=str(device), max_num_seqs=args.batch, kv_cache_tokens=4 * max(args.contexts)
                                  + 4096, **CONFIGS[name])
        engine = Engine(loaded, settings, device, dtype)
        start = time.perf_counter()
        rows = run_config(engine, prompts)
        seconds = time.perf_counter() - start
        scores[name] = {}
        for context in args.contexts:
            cell = [r for r in rows if r["context"] == context]
            acc = 100.0 * sum(r["found"] for r in cell) / len(cell)
            scores[name][context] = acc
            print(json.dumps({"bench": "needle", "config": name, "context": context, "accuracy": acc,
                              "found": [int(r["found"]) for r in sorted(cell, key=lambda r: r["depth"])],
                              "answers": [r["answer"] for r in sorted(cell, key=lambda r: r["depth"])],
                              "prompt_tokens": sum(len(p[3]) for p in prompts if p[0] == context),
                              "config_seconds": round(seconds, 1)}), flush=True)
        del engine
    baseline = next((b for b in BASELINES if b in scores), None)
    summary: dict[str, Any] = {"bench": "needle", "summary": True, "baseline": baseline, "tolerance_points": TOLERANCE}
    if baseline is not None:
        for name, row in scores.items():
            summary[f"{name}_minus_{baseline}"] = {c: row[c] - scores[baseline][c] for c in row}
        if PRODUCT in scores:
            gaps = [scores[baseline][c] - scores[PRODUCT][c] for c in args.contexts]
            summary["product_within_tolerance"] = all(g <= TOLERANCE for g in gaps)
    print(json.dumps(summary), flush=True)
    header = "| config | " + " | ".join(f"{c}" for c in args.contexts) + " |"
    print(header, file=sys.stderr)
    print("|---|" + "---:|" * len(args.contexts), file=sys.stderr)
    for name, row in scores.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.0f}" for c in args.contexts) + " |", file=sys.stderr)


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
