"""Block pool, block tables and the scheduler's continuous batching."""

from __future__ import annotations

import pytest
from engine_helpers import make_engine

from runtime.engine.block_pool import BlockPool
from runtime.engine.kv_cache_manager import KVCacheManager
from runtime.engine.sampling import SamplingParams

GREEDY = SamplingParams(max_tokens=8, temperature=0, ignore_eos=True)


def test_pool_refcounts_free_list_and_prefix_reuse() -> None:
    pool = BlockPool(4)
    kv = KVCacheManager(pool, block_size=2)
    tokens = [1, 2, 3, 4, 5]
    assert kv.allocate("a", 5)  # 3 blocks
    assert pool.num_free == 1
    kv.commit("a", tokens, 5)  # blocks [1,2] and [3,4] are full and now shareable
    shared = kv.cached_prefix([1, 2, 3, 4, 9])
    assert [b.block_id for b in shared] == kv.block_ids("a")[:2]
    assert kv.allocate("b", 5, shared)  # shares 2 blocks, takes the last free one
    assert [b.ref_count for b in shared] == [2, 2]
    assert pool.num_free == 0
    assert not kv.allocate("c", 1)  # pool exhausted: refused, nothing half-allocated
    kv.free("a")
    assert [b.ref_count for b in shared] == [1, 1] and pool.num_free == 1
    kv.free("b")
    assert pool.num_free == 4
    # Freed blocks keep their contents' identity until reallocated.
    assert len(kv.cached_prefix([1, 2, 3, 4, 9])) == 2
    assert kv.cached_prefix([1, 2, 7, 7, 9])[:1] != [] and len(kv.cached_prefix([1, 2, 7, 7, 9])) == 1
    with pytest.raises(RuntimeError, match="freed twice"):
        pool.free([pool.blocks[0]])


def test_new_requests_join_between_decode_steps_and_match_solo_runs(llama_dir) -> None:  # noqa: ANN001
    solo = make_engine(llama_dir)
    prompts = [[5, 6, 7, 8, 9, 10], [40, 41, 42], [100, 101, 102, 103, 104, 105, 106, 107, 108]]
    expected = [solo.generate(p, GREEDY).token_ids for p in prompts]

    engine = make_engine(llama_dir, enable_prefix_caching=False)
    first = engine.add_request(prompts[0], GREEDY)
    got: dict[str, list[int]] = {}
    for _ in range(2):  # prefill, then one decode step, before the others arrive
        for out in engine.step():
            got.setdefault(out.request_id, []).extend(out.token_ids)
    later = [engine.add_request(p, GREEDY) for p in prompts[1:]]
    plan_sizes = []
    while engine.has_unfinished():
        plan_sizes.append(len(engine.scheduler.running) + len(engine.scheduler.waiting))
        for out in engine.step():
            got.setdefault(out.request_id, []).extend(out.token_ids)
    assert max(plan_sizes) == 3  # all three were in flight together
    assert [got[first], *[got[r] for r in later]] == expected
    assert engine.num_free_blocks == engine.pool.num_blocks


def test_token_budget_chunks_prefill_and_decode_goes_first(llama_dir) -> None:  # noqa: ANN001
    engine = make_engine(llama_dir, max_num_batched_tokens=4)
    a = engine.add_request([1, 2, 3], GREEDY)
    engine.step()
    b = engine.add_request(list(range(10, 20)), GREEDY)
    plan = engine.scheduler.schedule()
    sizes = {c.request.request_id: c.num_tokens for c in plan.chunks}
    assert sizes == {a: 1, b: 3}  # a's decode token first, then b's prompt within the budget


def test_pool_pressure_preempts_and_recomputes(llama_dir) -> None:  # noqa: ANN001
    solo = make_engine(llama_dir)
    params = SamplingParams(max_tokens=12, temperature=0, ignore_eos=True)
    prompts = [[3, 4, 5, 6, 7, 8], [30, 31, 32, 33, 34, 35]]
    expected = [solo.generate(p, params).token_ids for p in prompts]
    # 8 blocks of 4 tokens: both fit at first, not once both have grown to 18 tokens.
    engine = make_engine(llama_dir, kv_cache_tokens=32, enable_prefix_caching=False)
    ids = [engine.add_request(p, params) for p in prompts]
    got: dict[str, list[int]] = {i: [] for i in ids}
    preempted = 0
    while engine.has_unfinished():
        before = len(engine.scheduler.waiting)
        for out in engine.step():
            got[out.request_id].extend(out.token_ids)
        preempted += len(engine.scheduler.waiting) > before
    assert preempted >= 1
    assert [got[i] for i in ids] == expected


def test_abort_frees_blocks(llama_engine) -> None:  # noqa: ANN001
    total = llama_engine.num_free_blocks
    rid = llama_engine.add_request(list(range(1, 30)), GREEDY)
    llama_engine.step()
    assert llama_engine.num_free_blocks < total
    assert llama_engine.abort(rid)
    assert llama_engine.num_free_blocks == total
    assert not llama_engine.abort(rid)
    assert not llama_engine.has_unfinished()
