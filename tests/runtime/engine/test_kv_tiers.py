"""KV tiers: LRU slot cache, bit-exact GPU<->host<->disk round trips, suspended sessions that resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from engine_helpers import make_engine

from runtime.engine.errors import EngineError
from runtime.engine.kv_fp8 import FP8_DTYPE
from runtime.engine.kv_tiers import KVLayout, device_cache, tiered_cache
from runtime.engine.sampling import SamplingParams
from runtime.engine.tier_disk import load_blocks, save_blocks
from runtime.engine.tier_gpu import SlotCache, TierCapacityError

CPU = torch.device("cpu")


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.view(torch.uint8) if t.dtype == FP8_DTYPE else t


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(_bits(a[n]), _bits(b[n])) for n in a)


def test_slot_cache_evicts_least_recently_used_and_never_the_current_set() -> None:
    cache = SlotCache(3)
    slots, missed = cache.assign([10, 11, 12])
    assert sorted(slots) == [0, 1, 2] and missed == [0, 1, 2]
    assert cache.assign([10]) == ([slots[0]], [])  # hit; 11 is now the oldest
    new, missed = cache.assign([13, 12])
    assert new[0] == slots[1] and missed == [0]  # 13 took 11's slot
    again, missed = cache.assign([11, 13, 12])  # 10 is evicted, not 13/12 which this step uses
    assert again[0] == slots[0] and missed == [0]
    with pytest.raises(TierCapacityError, match="raise --gpu-kv-gib"):
        cache.assign([1, 2, 3, 4])


@pytest.mark.parametrize(("fp8", "offload", "stored"), [(True, "cpu", None), (False, "disk", None),
                                                      (True, "disk", None), (False, "cpu", torch.bfloat16)])
def test_tiers_return_bit_identical_blocks(fp8: bool, offload: str, stored: torch.dtype | None, tmp_path: Path) -> None:
    layout = KVLayout(4, 2, 8, torch.float32, fp8, storage_dtype=stored)
    tiered = tiered_cache(2, layout, 12, 4, CPU, offload, tmp_path)  # 4 device slots: constant eviction
    ref = device_cache(2, layout, 12, CPU, summary=True)
    gen = torch.Generator().manual_seed(0)
    for t in range(40):  # token by token: FP8 blocks are re-encoded in the device tier, copied home each time
        k, v = torch.randn(1, 2, 8, generator=gen) * (1 + t), torch.randn(1, 2, 8, generator=gen)
        for cache in (tiered, ref):
            for layer in cache.layers:
                layer.write(k, v, torch.tensor([t]))
        if t % 5 == 0 and t >= 4:  # reads of full blocks in between move others through the device slots
            ids = torch.tensor([t // 4 - 1, 0, max(0, t // 4 - 3)]).unique()
            assert torch.equal(tiered.layers[1].gather(ids)[0], ref.layers[1].gather(ids)[0])
    ids = torch.arange(10)
    for got, want in zip(tiered.layers, ref.layers):
        assert _same(got.read_blocks(ids), want.read_blocks(ids))  # host (home) copy == device-only storage
        picks = torch.tensor([[[9, 2, 5], [2, 9, 7]]])
        assert torch.equal(got.gather_heads(picks)[1], want.gather_heads(picks)[1])  # and back through the slots
    occ = tiered.tiers.occupancy()
    assert occ["gpu_misses"] > 0 and occ["bytes_to_gpu"] > 0 and occ["gpu_slots_used"] == 8
    # Disk: one file per sequence, read back bit for bit into other blocks of another cache.
    path = tmp_path / "seq.kv"
    save_blocks(path, tiered.layers, [3, 1, 4], {"who": "test"})
    other = device_cache(2, layout, 12, CPU, summary=True)
    load_blocks(path, other.layers, [7, 8, 9])
    for src, dst in zip(tiered.layers, other.layers):
        assert _same(src.read_blocks(torch.tensor([3, 1, 4])), dst.read_blocks(torch.tensor([7, 8, 9])))
    with pytest.raises(EngineError, match="holds 3 blocks, 2 were allocated"):
        load_blocks(path, other.layers, [7, 8])
    (tmp_path / "junk.kv").write_bytes(b"not safetensors")
    with pytest.raises(EngineError, match="not a readable KV session file"):
        load_blocks(tmp_path / "junk.kv", other.layers, [1])


def test_offloaded_engine_with_a_small_gpu_tier_matches_the_device_engine(llama_dir) -> None:
    prompt = list(range(3, 180))
    params = SamplingParams(max_tokens=8, temperature=0, ignore_eos=True)
    common = {"kv_dtype": "fp8", "sparse_budget": 32, "sparse_prefill_budget": 32, "sparse_window_tokens": 8,
              "sparse_refine": 1, "max_num_batched_tokens": 32, "max_num_seqs": 1}
    want = make_engine(llama_dir, **common).generate(prompt, params).token_ids
    # Summaries of 513 blocks take 256 KiB; a slot is 544 bytes (both layers): ~30 slots for a 47-block sequence.
    tiered = make_engine(llama_dir, kv_offload="cpu", gpu_kv_gib=0.00026, **common)
    assert tiered.generate(prompt, params).token_ids == want
    status = tiered.kv_status()
    assert status["gpu_slots_total"] <= 2 * 32 and status["bytes_to_gpu"] > 0  # blocks were evicted and fetched back
    with pytest.raises(EngineError, match="--gpu-kv-gib 1e-06 holds 0 KV blocks per layer"):
        make_engine(llama_dir, kv_offload="cpu", gpu_kv_gib=0.000001, **common)


def test_suspended_sequence_resumes_from_disk_without_prefill(llama_dir, tmp_path: Path) -> None:
    prompt = list(range(5, 70))
    params = SamplingParams(max_tokens=12, temperature=0.8, seed=3, ignore_eos=True)
    settings = {"kv_dtype": "fp8", "kv_offload": "disk", "kv_disk_dir": tmp_path / "kv"}
    want = make_engine(llama_dir, **settings).generate(prompt, params).token_ids

    first = make_engine(llama_dir, **settings)
    rid = first.add_request(prompt, params)
    got: list[int] = []
    while len(got) < 5:
        for out in first.step():
            got.extend(out.token_ids)
    path = first.suspend(rid)
    assert path.parent == tmp_path / "kv" / "sessions" and path.is_file()
    assert first.num_free_blocks == first.pool.num_blocks and not first.has_unfinished()

    second = make_engine(llama_dir, **settings)  # a fresh process would see the same: nothing but the file
    assert second.resume(path) == rid
    before = second.runner.tokens_computed
    steps = 0
    while second.has_unfinished():
        for out in second.step():
            got.extend(out.token_ids)
        steps += 1
    assert got == want  # same tokens, sampler state included
    assert second.runner.tokens_computed - before == steps  # one token per step: no prefill
    with pytest.raises(EngineError, match="saved with kv_dtype=fp8"):
        make_engine(llama_dir, kv_dtype="bf16").resume(path)
