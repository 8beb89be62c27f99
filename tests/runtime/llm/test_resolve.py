from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from runtime.llm import (
    ModelPrices,
    ModelSettings,
    UnknownModelError,
    choose_default,
    find_model,
    parse_model_ref,
    resolve_model,
)
from runtime.llm.catalogue import CATALOGUE


def test_catalogue_covers_the_promised_families_with_sane_numbers() -> None:
    names = {m.name for m in CATALOGUE}
    assert {"deepseek-chat", "deepseek-reasoner", "gpt-4.1", "gpt-5", "claude-sonnet-5",
            "qwen3-coder-plus", "smollm2"} <= names
    assert any(m.provider == "deepseek" and m.context_window >= 1_000_000 for m in CATALOGUE)
    assert len(names) == len(CATALOGUE), "duplicate catalogue names"
    for m in CATALOGUE:
        assert m.max_output_tokens <= m.context_window, m.name
        assert m.output_price >= m.input_price, m.name
        assert m.cached_input_price is None or m.cached_input_price <= m.input_price, m.name
    assert find_model("claude-haiku-4-5-20251001").name == "claude-haiku-4-5"  # alias


@pytest.mark.parametrize(("ref", "provider", "model"), [
    ("openai:gpt-4.1", "openai", "gpt-4.1"),
    ("gpt-4.1", "openai", "gpt-4.1"),                       # inferred from the catalogue
    ("ollama:qwen2.5-coder:7b", "ollama", "qwen2.5-coder:7b"),  # colon inside the name
    ("replay:/tmp/session.jsonl", "replay", "/tmp/session.jsonl"),
    ("smollm2", "local", "smollm2"),
    ("models/tiny.gguf", "local", "models/tiny.gguf"),
    ("my-finetune", "vllm", "my-finetune"),                 # unknown: keeps the provider
])
def test_parse_model_ref(ref: str, provider: str, model: str) -> None:
    base = ModelSettings(provider="vllm", model="x", base_url="http://10.0.0.5:8000/v1")
    parsed = parse_model_ref(ref, base)
    assert (parsed.provider, parsed.model) == (provider, model)
    # The vLLM address survives only while the provider stays vLLM.
    assert parsed.base_url == (base.base_url if provider == "vllm" else None)


def test_parse_model_ref_drops_limits_of_the_previous_model() -> None:
    base = ModelSettings(model="deepseek-chat", context_window=50_000, input_price=9.0)
    parsed = parse_model_ref("deepseek:deepseek-v4-pro", base)
    assert parsed.context_window is None and parsed.input_price is None
    with pytest.raises(ValueError, match="empty model reference"):
        parse_model_ref("  ")


@pytest.mark.parametrize(("provider", "model", "url", "key_env"), [
    ("deepseek", "deepseek-chat", "https://api.deepseek.com", "DEEPSEEK_API_KEY"),
    ("openai", "gpt-5", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    ("anthropic", "claude-opus-5", "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
    ("qwen", "qwen3-coder-plus", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
     "DASHSCOPE_API_KEY"),
    ("ollama", "llama3.2", "http://127.0.0.1:11434/v1", None),
    ("engram", "smollm2", "http://127.0.0.1:8000/v1", None),
])
def test_resolve_defaults_per_provider(provider: str, model: str, url: str,
                                       key_env: str | None) -> None:
    r = resolve_model(ModelSettings(provider=provider, model=model), env={})
    assert (r.base_url, r.api_key_env) == (url, key_env)
    assert r.key_required == (key_env is not None)
    assert r.ref == f"{provider}:{model}"


def test_resolve_takes_window_and_prices_from_catalogue_unless_overridden() -> None:
    r = resolve_model(ModelSettings(provider="deepseek", model="deepseek-reasoner"), env={})
    assert (r.context_window, r.context_window_source) == (1_000_000, "catalogue")
    assert r.prices == ModelPrices(0.14, 0.28, 0.0028)
    r = resolve_model(ModelSettings(model="deepseek-chat", context_window=64_000,
                                    output_price=1.0), env={"DEEPSEEK_API_KEY": "sk"})
    assert (r.context_window, r.context_window_source, r.prices.output) == (64_000, "settings", 1.0)
    assert r.key_set and not r.key_missing


def test_unknown_hosted_model_lists_close_names() -> None:
    with pytest.raises(UnknownModelError, match=r"deepseek-chta.*did you mean deepseek-chat"):
        resolve_model(ModelSettings(model="deepseek-chta"), env={})
    # ... but any name goes on a self-hosted server, with an assumed window.
    r = resolve_model(ModelSettings(provider="openai", model="my-model",
                                    base_url="http://127.0.0.1:9/v1"), env={})
    assert (r.context_window_source, r.key_required) == ("assumed", False)


def test_unknown_provider_is_a_settings_error_with_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="did you mean deepseek"):
        ModelSettings(provider="deepsek")


def test_choose_default_falls_back_to_local_without_a_key() -> None:
    settings = ModelSettings()
    chosen = choose_default(settings, env={})
    assert chosen.ref == "local:smollm2"
    assert chosen.fallback_from == "deepseek:deepseek-chat"
    assert "DEEPSEEK_API_KEY" in chosen.reason and "smollm2" in chosen.reason
    assert chosen.prices.cost(1000, 1000) == 0.0

    with_key = choose_default(settings, env={"DEEPSEEK_API_KEY": "sk-1"})
    assert with_key.ref == "deepseek:deepseek-chat" and with_key.fallback_from is None
    # A blank variable is no key.
    assert choose_default(settings, env={"DEEPSEEK_API_KEY": "  "}).ref == "local:smollm2"
    # Self-hosted servers need no key, so there is nothing to fall back from.
    assert choose_default(ModelSettings(provider="vllm", model="m"), env={}).ref == "vllm:m"


def test_choose_default_respects_opt_out_and_custom_key_variable() -> None:
    no_fallback = ModelSettings(fallback_to_local=False)
    assert choose_default(no_fallback, env={}).ref == "deepseek:deepseek-chat"
    custom = ModelSettings(provider="vllm", model="m", api_key_env="MY_VLLM_KEY",
                           local_model="/models/tiny.gguf")
    chosen = choose_default(custom, env={})
    assert chosen.ref == "local:/models/tiny.gguf" and "MY_VLLM_KEY" in chosen.reason


def test_settings_fields_come_from_config_files(tmp_path: Path) -> None:
    from agent.config import load_settings

    cfg = tmp_path / ".engram" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text('[model]\nprovider = "qwen"\nmodel = "qwen-plus"\ntimeout = 30\n'
                   'max_retries = 5\ninput_price = 0.5\n', encoding="utf-8")
    model = load_settings(tmp_path).model
    r = resolve_model(model, env={})
    assert (r.provider, r.timeout, r.max_retries, r.prices.input, r.prices.output) == (
        "qwen", 30.0, 5, 0.5, 1.2)
