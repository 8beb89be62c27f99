"""Sampling controls, stop conditions and streaming detokenization."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import byte_level_tokenizer

from runtime.engine.detok import IncrementalDetokenizer, StopStringMatcher
from runtime.engine.errors import ContextLengthError, RequestError
from runtime.engine.sampling import SamplingParams, apply_repetition_penalty, filter_top_k_top_p


def test_top_k_and_top_p_keep_the_right_tokens() -> None:
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert torch.isfinite(filter_top_k_top_p(logits, 2, 1.0)).tolist() == [True, True, False, False]
    assert torch.isfinite(filter_top_k_top_p(logits, 0, 0.7)).tolist() == [True, True, False, False]
    assert torch.isfinite(filter_top_k_top_p(logits, 0, 0.4)).tolist() == [True, False, False, False]


def test_repetition_penalty_lowers_seen_tokens_either_sign() -> None:
    out = apply_repetition_penalty(torch.tensor([2.0, -2.0, 1.0]), torch.tensor([0, 1, 1]), 2.0)
    assert out.tolist() == [1.0, -4.0, 1.0]


def test_seed_makes_sampling_reproducible_and_greedy_ignores_it(llama_engine) -> None:  # noqa: ANN001
    prompt = [10, 20, 30]
    runs = [llama_engine.generate(prompt, SamplingParams(max_tokens=10, temperature=1.0, seed=s, ignore_eos=True))
            for s in (1, 1, 2)]
    assert runs[0].token_ids == runs[1].token_ids != runs[2].token_ids
    penalised = llama_engine.generate(prompt, SamplingParams(max_tokens=20, temperature=0, repetition_penalty=5.0,
                                                             ignore_eos=True))
    assert len(set(penalised.token_ids)) >= 15  # strong penalty: almost no repeats


def test_stop_strings_max_tokens_and_validation(llama_engine) -> None:  # noqa: ANN001
    prompt = [10, 20, 30]
    full = llama_engine.generate(prompt, SamplingParams(max_tokens=12, temperature=0, ignore_eos=True))
    assert full.completion_tokens == 12 and full.finish_reason == "length"
    stop = full.text[3:5]
    cut = llama_engine.generate(prompt, SamplingParams(max_tokens=12, temperature=0, ignore_eos=True, stop=[stop]))
    assert cut.finish_reason == "stop"
    assert cut.text == full.text[: full.text.find(stop)]
    with pytest.raises(RequestError, match="top_p"):
        llama_engine.add_request(prompt, SamplingParams(top_p=0))
    with pytest.raises(ContextLengthError, match="context window is 1024 tokens"):
        llama_engine.add_request(list(range(1, 280)) * 4, SamplingParams())


def test_incremental_detokenization_of_multibyte_text() -> None:
    tok = byte_level_tokenizer()
    text = "héllo 世界 🙂 done"
    ids = tok.encode(text).ids
    assert len(ids) > len(text)  # multi-byte characters span several tokens
    detok = IncrementalDetokenizer(lambda t: tok.decode(t, skip_special_tokens=True))
    deltas = [detok.add(i) for i in ids]
    assert "".join(deltas) + detok.flush() == text
    assert all("\ufffd" not in d for d in deltas)


def test_stop_matcher_holds_partial_matches_across_deltas() -> None:
    m = StopStringMatcher(["</end>"])
    assert m.feed("abc </") == ("abc ", False)
    assert m.feed("en") == ("", False)
    assert m.feed("d> tail") == ("", True)
    m = StopStringMatcher(["</end>"])
    assert m.feed("x </e") == ("x ", False)
    assert m.feed("xit") == ("</exit", False)
