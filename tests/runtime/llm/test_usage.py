from __future__ import annotations

import pytest

from runtime.llm import (
    ModelPrices,
    ModelSettings,
    ReplayChatModel,
    ScriptStep,
    UsageTracker,
    make_chat_model,
    resolve_model,
)


def step(model: str | None, inp: int, out: int, cached: int = 0) -> ScriptStep:
    return ScriptStep.model_validate({
        "content": "ok", "model": model,
        "usage": {"input_tokens": inp, "output_tokens": out, "cached_tokens": cached}})


def test_cost_bills_cached_input_at_its_own_rate() -> None:
    prices = ModelPrices(input=1.0, output=2.0, cached_input=0.1)
    assert prices.cost(1_000_000, 100_000, cached_tokens=200_000) == pytest.approx(1.02)
    # No cache price: cached tokens cost like any input.
    assert ModelPrices(1.0, 2.0).cost(1_000_000, 0, 500_000) == pytest.approx(1.0)


def test_tracker_sums_calls_with_catalogue_prices() -> None:
    tracker = UsageTracker()
    model = ReplayChatModel(steps=[step("deepseek-chat", 1_000_000, 500_000, 600_000),
                                   step("unknown-model", 10, 5)])
    model.invoke("a", config={"callbacks": [tracker]})
    model.invoke("b", config={"callbacks": [tracker]})
    first, second = tracker.calls
    assert (first.input_tokens, first.output_tokens, first.cached_tokens) == (1_000_000, 500_000,
                                                                              600_000)
    # deepseek-chat: 0.14 in, 0.0028 cached, 0.28 out per 1M
    assert first.cost_usd == pytest.approx(0.4 * 0.14 + 0.6 * 0.0028 + 0.5 * 0.28)
    assert first.priced and not second.priced and second.cost_usd == 0
    totals = tracker.totals
    assert (totals.calls, totals.input_tokens, totals.output_tokens) == (2, 1_000_010, 500_005)
    assert totals.total_tokens == 1_500_015
    assert totals.cost_usd == pytest.approx(first.cost_usd)


def test_streamed_and_plain_calls_are_each_counted_once(fake_server) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1"}
    fake_server.reply_stream([
        {**base, "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]},
        {**base, "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 10,
                                          "total_tokens": 1010,
                                          "prompt_tokens_details": {"cached_tokens": 400}}},
    ])
    fake_server.reply_completion("hi", prompt_tokens=1000, completion_tokens=10,
                                 cached_tokens=400, model="gpt-4.1")
    settings = ModelSettings(provider="openai", model="gpt-4.1", base_url=fake_server.url,
                             max_retries=0)
    tracker = UsageTracker(resolve_model(settings, env={}).prices)
    chat = make_chat_model(settings, env={})
    list(chat.stream("x", config={"callbacks": [tracker]}))
    chat.invoke("y", config={"callbacks": [tracker]})
    totals = tracker.totals
    assert (totals.calls, totals.input_tokens, totals.cached_tokens, totals.output_tokens) == (
        2, 2000, 800, 20)
    # gpt-4.1: 2.00 in, 0.50 cached, 8.00 out per 1M
    assert totals.cost_usd == pytest.approx(2 * (600 * 2.0 + 400 * 0.5 + 10 * 8.0) / 1e6)


def test_configured_prices_override_the_catalogue() -> None:
    settings = ModelSettings(model="deepseek-chat", input_price=10.0, output_price=20.0,
                             cached_input_price=1.0)
    tracker = UsageTracker(resolve_model(settings, env={}).prices)
    ReplayChatModel(steps=[step("deepseek-chat", 100_000, 50_000)]).invoke(
        "x", config={"callbacks": [tracker]})
    assert tracker.totals.cost_usd == pytest.approx(1.0 + 1.0)
