"""KV storage encodings: FP8 round-trip bounds, scales and key offsets, bf16 storage, engines that track dense."""

from __future__ import annotations

from pathlib import Path

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
    # A block started by one decode token takes that token's keys as its channel offsets.
    assert torch.equal(layer.k_offset[1], k[0].to(torch.bfloat16))
    offset = layer.k_offset[ids].float().repeat_interleave(4, dim=0)
    scale_k = layer.k_scale[ids].repeat_interleave(4, dim=0)[:, :, None]
    assert bool(((got_k - want_k).abs() <= fp8_error_bound(want_k - offset, scale_k, reencoded=True)).all())
    scale_v = layer.v_scale[ids].repeat_interleave(4, dim=0)[:, :, None]
    assert bool(((got_v - want_v).abs() <= fp8_error_bound(want_v, scale_v, reencoded=True)).all())
    # Block 1 reused by a new owner from offset 0: scale and offsets follow the new (tiny) values only.
    layer.write(torch.full((1, 2, 16), 1e-3), torch.full((1, 2, 16), 1e-3), torch.tensor([4]))
    assert torch.equal(layer.v_scale[1], torch.full((2,), 2.0**-18))  # 1e-3 / 448 rounded up to a power of two
    assert torch.allclose(layer.k_offset[1].float(), torch.full((2, 16), 1e-3), rtol=1 / 128)
    got_k, got_v = layer.gather(torch.tensor([1]))
    assert torch.allclose(got_k[0], torch.full((2, 16), 1e-3), rtol=1 / 64)
    assert torch.allclose(got_v[0], torch.full((2, 16), 1e-3), rtol=1 / 16)


def test_key_offsets_cut_the_error_of_keys_with_outlier_channels() -> None:
    """Keys with large per-channel offsets (RoPE's slow channels) lose far less with block midpoints."""
    gen = torch.Generator().manual_seed(3)
    channel_offset = torch.zeros(32)
    channel_offset[[3, 17]] = torch.tensor([40.0, -25.0])  # two outlier channels, as in real keys
    k = torch.randn(64, 2, 32, generator=gen) + channel_offset
    layer = Fp8LayerKV(16, 16, 2, 32, torch.float32, CPU)
    layer.write(k, torch.randn(64, 2, 32, generator=gen), torch.arange(64))
    got = layer.gather(torch.arange(4))[0]
    blocks = k.view(4, 16, 2, 32)
    plain_scales = block_scales(blocks)  # per-block, per-head scales without offsets
    plain = dequantize(quantize(blocks, plain_scales).transpose(1, 2), plain_scales, torch.float32).transpose(1, 2)
    err_offset = ((got - k).norm() / k.norm()).item()
    err_plain = ((plain.reshape(64, 2, 32) - k).norm() / k.norm()).item()
    assert err_offset < err_plain / 4, (err_offset, err_plain)
    residual = k - layer.k_offset[:4].float().repeat_interleave(16, dim=0)
    bound = fp8_error_bound(residual, layer.k_scale[:4].repeat_interleave(16, dim=0)[:, :, None])
    assert bool(((got - k).abs() <= bound).all())  # written once (a full block): the single-encode bound


def test_appending_tokens_that_keep_the_scale_leaves_stored_bytes_untouched() -> None:
    gen = torch.Generator().manual_seed(4)
    layer = Fp8LayerKV(4, 8, 1, 16, torch.float32, CPU)
    layer.write(torch.randn(4, 1, 16, generator=gen) * 4, torch.randn(4, 1, 16, generator=gen) * 4, torch.arange(4))
    before = {n: t.clone() for n, t in layer.read_blocks(torch.tensor([0])).items()}
    small = torch.full((1, 1, 16), 1e-2) + layer.k_offset[0].float()  # inside the block's range: no rescale
    layer.write(small, torch.full((1, 1, 16), 1e-2), torch.tensor([4]))
    after = layer.read_blocks(torch.tensor([0]))
    assert torch.equal(after["k_scale"], before["k_scale"]) and torch.equal(after["k_offset"], before["k_offset"])
    for name in ("k", "v"):  # the four stored tokens were not rounded again
        assert torch.equal(after[name][:, :4].view(torch.uint8), before[name][:, :4].view(torch.uint8))


def test_bf16_kv_stores_bfloat16_on_a_float32_model(llama_dir: Path) -> None:
    params = SamplingParams(max_tokens=6, temperature=0, ignore_eos=True)
    prompt = list(range(5, 70))
    auto = make_engine(llama_dir, kv_dtype="auto", max_num_batched_tokens=16, sparse_budget=0)
    bf16 = make_engine(llama_dir, kv_dtype="bf16", max_num_batched_tokens=16, sparse_budget=0)
    assert auto.cache.layers[0].k.dtype == torch.float32 and bf16.cache.layers[0].k.dtype == torch.bfloat16
    assert bf16.cache.device_bytes() * 2 == auto.cache.device_bytes()  # really half the bytes
    want = auto.generate(prompt, params).token_ids
    assert bf16.generate(prompt, params).token_ids == want  # bf16 rounding does not change greedy tokens here
    stored = bf16.cache.layers[0].k.view(-1, *bf16.cache.layers[0].k.shape[2:])
    assert stored.abs().sum() > 0 and stored.dtype == torch.bfloat16


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
    for current in ("auto", "fp8"):  # chunked prefill (16-token chunks) reads the FP8 cache back
        make_engine(llama_dir, kv_dtype=current, max_num_batched_tokens=16).generate(prompt, params)
    dense, fp8 = captured["auto"][0], captured["fp8"][0]
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
    layer.write(torch.randn(n, KVH, D) + 5 * torch.arange(D) / D, torch.randn(n, KVH, D), tables[b, pos // BS] * BS + pos % BS)
q = torch.randn(B, H, D)
idx, valid = select_blocks(torch.randn(B, KVH, 8), torch.tensor([8, 4]), 5, 1, 1)
ids = tables.gather(1, idx.flatten(1)).view_as(idx)
ctx = torch.tensor(lens)
out = fa.fp8_sparse_decode(q, layer.k, layer.v, layer.k_scale, layer.v_scale, layer.k_offset, ids, idx, valid, ctx,
                           D**-0.5)
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
