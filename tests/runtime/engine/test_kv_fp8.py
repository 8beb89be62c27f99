"""FP8 KV storage: round-trip error bounds, scale handling, and an FP8 engine that tracks the dense one."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import make_engine

from runtime.engine import engine as engine_module
from runtime.engine.kv_cache import LayerKV
from runtime.engine.kv_fp8 import (
    Fp8LayerKV,
    block_scales,
    dequantize,
    fp8_error_bound,
    quantize,
)
from runtime.engine.sampling import SamplingParams

CPU = torch.device("cpu")


def test_block_round_trip_is_within_the_stated_bound() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 16, 4, 32, generator=gen) * torch.logspace(-3, 3, 64)[:, None, None, None]
    x[3, 5, 1, 7] = 900.0  # an outlier sets its block/head scale but must not hurt other heads
    scales = block_scales(x)
    back = dequantize(quantize(x, scales).transpose(1, 2), scales, torch.float32).transpose(1, 2)
    err = (back - x).abs()
    assert bool((err <= fp8_error_bound(x, scales[:, None, :, None])).all())
    assert err.max() > 0  # it really is lossy: the bound is being exercised
    rel = (err.sum() / x.abs().sum()).item()
    assert rel < 0.03  # mean relative error of e4m3 is ~2%
    assert (back[3, :, 0] - x[3, :, 0]).abs().max() < x[3, :, 0].abs().max() / 16 + 1e-6  # head 0 unaffected


def test_token_by_token_writes_stay_within_twice_the_bound_and_reused_blocks_start_fresh() -> None:
    gen = torch.Generator().manual_seed(1)
    layer = Fp8LayerKV(8, 4, 2, 16, torch.float32, CPU)
    ref = LayerKV(8, 4, 2, 16, torch.float32, CPU)
    # Growing magnitudes force re-encoding of already stored tokens with a larger scale.
    k = torch.randn(24, 2, 16, generator=gen) * torch.linspace(0.1, 10, 24)[:, None, None]
    v = torch.randn(24, 2, 16, generator=gen)
    for t in range(24):
        slot = torch.tensor([4 + t])
        layer.write(k[t : t + 1], v[t : t + 1], slot)
        ref.write(k[t : t + 1], v[t : t + 1], slot)
    ids = torch.arange(1, 7)
    got_k, got_v = layer.gather(ids)
    want_k, want_v = ref.gather(ids)
    scale_k = layer.k_scale[ids].repeat_interleave(4, dim=0)[:, :, None]
    assert bool(((got_k - want_k).abs() <= fp8_error_bound(want_k, scale_k, reencoded=True)).all())
    assert torch.allclose(got_v, want_v, atol=0.5, rtol=1 / 8)
    # Block 1 reused by a new owner from offset 0: its scale follows the new (tiny) values only.
    layer.write(torch.full((1, 2, 16), 1e-3), torch.full((1, 2, 16), 1e-3), torch.tensor([4]))
    assert torch.allclose(layer.k_scale[1], torch.full((2,), 1e-3 / 448))
    assert torch.allclose(layer.gather(torch.tensor([1]))[0][0], torch.full((2, 16), 1e-3), rtol=1 / 16)


def test_per_head_gather_matches_block_gather() -> None:
    gen = torch.Generator().manual_seed(2)
    layer = Fp8LayerKV(6, 4, 3, 8, torch.float32, CPU)
    layer.write(torch.randn(20, 3, 8, generator=gen), torch.randn(20, 3, 8, generator=gen), torch.arange(20))
    ids = torch.tensor([[[4, 0], [2, 3], [1, 1]]])  # [B=1, heads=3, K=2]
    k, v = layer.gather_heads(ids)
    for h in range(3):
        full_k, full_v = layer.gather(ids[0, h])
        assert torch.equal(k[0, h], full_k[:, h]) and torch.equal(v[0, h], full_v[:, h])


def test_fp8_engine_logits_track_the_dense_engine(llama_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    captured: dict[str, list[torch.Tensor]] = {}
    real = engine_module.sample_token

    def spy(logits, params, seen, generator):
        captured.setdefault(current, []).append(logits.clone())
        return real(logits, params, seen, generator)

    monkeypatch.setattr(engine_module, "sample_token", spy)
    prompt = list(range(10, 90))
    params = SamplingParams(max_tokens=4, temperature=0, ignore_eos=True)
    for current in ("bf16", "fp8"):  # chunked prefill (16-token chunks) reads the FP8 cache back
        make_engine(llama_dir, kv_dtype=current, max_num_batched_tokens=16).generate(prompt, params)
    dense, fp8 = captured["bf16"][0], captured["fp8"][0]
    p, q = dense.softmax(-1), fp8.softmax(-1)
    assert (p - q).abs().sum() < 0.15  # total variation of the next-token distribution stays small
    assert (dense - fp8).abs().max() < 0.1 * dense.abs().max()


_KERNEL_CHECK = """
import torch
from runtime.engine import fp8_attention_triton as fa
from runtime.engine.block_select import select_blocks
from runtime.engine.kv_fp8 import Fp8LayerKV
torch.manual_seed(0)
B, H, KVH, D, BS = 2, 4, 2, 16, 4
layer = Fp8LayerKV(20, BS, KVH, D, torch.float32, torch.device("cpu"))
lens = [30, 13]
tables = torch.randperm(19)[:16].view(2, 8)
for b, n in enumerate(lens):
    pos = torch.arange(n)
    layer.write(torch.randn(n, KVH, D), torch.randn(n, KVH, D), tables[b, pos // BS] * BS + pos % BS)
q = torch.randn(B, H, D)
idx, valid = select_blocks(torch.randn(B, KVH, 8), torch.tensor([8, 4]), 5, 1, 1)
ids = tables.gather(1, idx.flatten(1)).view_as(idx)
ctx = torch.tensor(lens)
out = fa.fp8_sparse_decode(q, layer.k, layer.v, layer.k_scale, layer.v_scale, ids, idx, valid, ctx, D**-0.5)
k, v = layer.gather_heads(ids)
pos = (idx[..., None] * BS + torch.arange(BS)).flatten(2)
mask = valid.repeat_interleave(BS, -1) & (pos < ctx[:, None, None])
ref = torch.nn.functional.scaled_dot_product_attention(
    q.view(B, KVH, H // KVH, D), k, v, attn_mask=mask[:, :, None, :], scale=D**-0.5).reshape(B, H, D)
assert (out - ref).abs().max().item() < 1e-5, (out - ref).abs().max()
"""


def test_triton_fp8_kernel_matches_the_torch_path_in_the_interpreter() -> None:
    """The GPU kernel's logic, run by Triton's CPU interpreter (skipped where Triton is not installed)."""
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed (it ships with CUDA builds of torch)")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", _KERNEL_CHECK], check=False, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
