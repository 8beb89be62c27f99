from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_openai import ChatOpenAI

from runtime.llm import (
    BackendUnavailableError,
    MissingKeyError,
    ModelSettings,
    RecordingChatModel,
    ReplayChatModel,
    choose_default,
    make_chat_model,
    parse_model_ref,
)

HAS_ANTHROPIC = importlib.util.find_spec("langchain_anthropic") is not None


@pytest.mark.parametrize(("provider", "model", "env", "url"), [
    ("deepseek", "deepseek-chat", {"DEEPSEEK_API_KEY": "sk-ds"}, "https://api.deepseek.com"),
    ("openai", "gpt-4.1", {"OPENAI_API_KEY": "sk-oa"}, "https://api.openai.com/v1"),
    ("qwen", "qwen-plus", {"DASHSCOPE_API_KEY": "sk-q"},
     "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
    ("vllm", "meta-llama/Llama-3.1-8B-Instruct", {}, "http://127.0.0.1:8000/v1"),
    ("sglang", "qwen", {}, "http://127.0.0.1:30000/v1"),
    ("ollama", "qwen2.5-coder:7b", {}, "http://127.0.0.1:11434/v1"),
    ("llamacpp", "any", {}, "http://127.0.0.1:8080/v1"),
    ("engram", "smollm2", {}, "http://127.0.0.1:8000/v1"),
])
def test_openai_compatible_providers_get_chat_openai(provider: str, model: str,
                                                     env: dict[str, str], url: str) -> None:
    chat = make_chat_model(ModelSettings(provider=provider, model=model, timeout=7,
                                         max_retries=4, temperature=0.2), env=env)
    assert isinstance(chat, ChatOpenAI)
    assert chat.openai_api_base == url
    assert chat.model_name == model
    assert (chat.request_timeout, chat.max_retries, chat.temperature) == (7, 4, 0.2)
    key = chat.openai_api_key.get_secret_value() if chat.openai_api_key else None
    assert key == (next(iter(env.values())) if env else "not-needed")
    # Only OpenAI itself may be sent to the Responses API.
    assert chat.use_responses_api is (None if provider == "openai" else False)


def test_custom_base_url_and_key_variable() -> None:
    settings = ModelSettings(provider="openai", model="served", base_url="http://gpu-box:8000/v1/",
                             api_key_env="GPU_BOX_KEY", max_output_tokens=512)
    chat = make_chat_model(settings, env={"GPU_BOX_KEY": "secret"})
    assert chat.openai_api_base == "http://gpu-box:8000/v1"
    assert chat.openai_api_key.get_secret_value() == "secret"
    assert chat.max_tokens == 512
    with pytest.raises(MissingKeyError, match="GPU_BOX_KEY"):
        make_chat_model(settings, env={})


def test_missing_key_names_the_variable_to_set() -> None:
    with pytest.raises(MissingKeyError) as info:
        make_chat_model(ModelSettings(provider="deepseek"), env={})
    assert info.value.env_var == "DEEPSEEK_API_KEY"
    assert str(info.value).count("\n") == 0
    assert "set the environment variable DEEPSEEK_API_KEY" in str(info.value)


def test_no_key_falls_back_to_the_local_engine_model() -> None:
    built: list[tuple[str, dict[str, Any]]] = []

    def engine(ref: str, **options: Any) -> FakeListChatModel:
        built.append((ref, options))
        return FakeListChatModel(responses=["def fibonacci(n):"])

    chosen = choose_default(ModelSettings(temperature=0.0), env={})
    chat = make_chat_model(chosen, local_model_factory=engine, env={})
    assert built == [("smollm2", {"temperature": 0.0})]
    assert chat.invoke("hi").content == "def fibonacci(n):"


def test_local_engine_import_failure_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail, as a broken or absent engine would.
    monkeypatch.setitem(sys.modules, "runtime.engine.chat_model", None)
    with pytest.raises(BackendUnavailableError, match="local engine cannot be loaded"):
        make_chat_model(ModelSettings(provider="local", model="smollm2"), env={})


def test_replay_reference_builds_a_replay_model(tmp_path: Path) -> None:
    script = tmp_path / "s.jsonl"
    script.write_text('{"content": "recorded"}\n', encoding="utf-8")
    chat = make_chat_model(parse_model_ref(f"replay:{script}"), env={})
    assert isinstance(chat, ReplayChatModel)
    assert chat.invoke("x").content == "recorded"


def test_record_path_wraps_the_model(tmp_path: Path) -> None:
    script = tmp_path / "in.jsonl"
    script.write_text('{"content": "a"}\n', encoding="utf-8")
    out = tmp_path / "rec" / "out.jsonl"
    chat = make_chat_model(ModelSettings(provider="replay", model=str(script),
                                         record_path=str(out)), env={})
    assert isinstance(chat, RecordingChatModel)
    chat.invoke("x")
    assert out.read_text(encoding="utf-8").strip() == '{"content": "a", "model": "replay"}'


@pytest.mark.skipif(not HAS_ANTHROPIC, reason="optional extra langchain-anthropic not installed")
def test_anthropic_gets_chat_anthropic() -> None:
    from langchain_anthropic import ChatAnthropic

    chat = make_chat_model(ModelSettings(provider="anthropic", model="claude-sonnet-5",
                                         max_output_tokens=2048),
                           env={"ANTHROPIC_API_KEY": "sk-ant"})
    assert isinstance(chat, ChatAnthropic)
    assert (chat.model, chat.max_tokens, chat.anthropic_api_url) == (
        "claude-sonnet-5", 2048, "https://api.anthropic.com")


def test_anthropic_without_the_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)
    monkeypatch.delitem(sys.modules, "runtime.llm.anthropic_backend", raising=False)
    with pytest.raises(BackendUnavailableError, match=r"engram-code\[anthropic\]"):
        make_chat_model(ModelSettings(provider="anthropic", model="claude-opus-5"),
                        env={"ANTHROPIC_API_KEY": "sk-ant"})
