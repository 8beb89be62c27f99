"""Logits and greedy generations match Hugging Face transformers on tiny random models."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import FAMILIES, hf_greedy, hf_last_logits, make_engine

from runtime.engine.sampling import SamplingParams

PROMPT = [17, 200, 45, 3, 99, 150, 7, 8, 250, 12, 64, 33, 90, 101, 5, 44, 71, 19, 2, 230, 11, 13]


def _first_logits(engine, ids: list[int]) -> torch.Tensor:  # noqa: ANN001
    engine.add_request(ids, SamplingParams(max_tokens=1, temperature=0))
    plan = engine.scheduler.schedule()
    rows, logits = engine.runner.execute(plan.chunks)
    assert rows == [0]
    return logits[0]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_logits_and_greedy_match_transformers(tiny_models: dict, family: str) -> None:
    folder, hf = tiny_models[family]
    engine = make_engine(folder)
    ours = _first_logits(make_engine(folder), PROMPT)
    torch.testing.assert_close(ours, hf_last_logits(hf, PROMPT), atol=2e-4, rtol=1e-4)
    # 30 new tokens cross several 4-token blocks and go past the rope's original context (16).
    result = engine.generate(PROMPT, SamplingParams(max_tokens=30, temperature=0, ignore_eos=True))
    assert result.token_ids == hf_greedy(hf, PROMPT, 30)
    assert result.finish_reason == "length"


def test_chunked_prefill_and_prefix_cache_give_the_same_tokens(tiny_models: dict) -> None:
    folder, hf = tiny_models["qwen2"]
    expected = hf_greedy(hf, PROMPT, 12)
    engine = make_engine(folder, max_num_batched_tokens=5)  # the 22-token prompt takes 5 steps
    params = SamplingParams(max_tokens=12, temperature=0, ignore_eos=True)
    assert engine.generate(PROMPT, params).token_ids == expected
    again = engine.generate(PROMPT, params)  # served from cached prefix blocks this time
    assert again.cached_tokens >= 16
    assert again.token_ids == expected


def test_bfloat16_on_cpu_stays_close(tiny_models: dict) -> None:
    folder, hf = tiny_models["llama"]
    ours = _first_logits(make_engine(folder, dtype="bfloat16"), PROMPT)
    ref = hf_last_logits(hf, PROMPT)
    assert torch.nn.functional.cosine_similarity(ours, ref, dim=0) > 0.99
