"""``engram models``: the catalogue, the configured model and its key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["models", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_models_json_without_key_shows_the_local_fallback(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    data = run_json(capsys, "--path", str(tmp_path))
    assert data["configured"]["ref"] == "deepseek:deepseek-chat"
    assert data["configured"]["key_set"] is False and data["configured"]["key_missing"] is True
    assert data["selected"]["ref"] == "local:smollm2"
    assert "DEEPSEEK_API_KEY" in data["selected"]["reason"]
    configured_rows = [m["ref"] for m in data["models"] if m["configured"]]
    assert configured_rows == ["deepseek:deepseek-chat"]
    chat = next(m for m in data["models"] if m["model"] == "deepseek-chat")
    assert chat["context_window"] == 1_000_000 and chat["input_price"] > 0
    assert {p["name"] for p in data["providers"]} >= {"deepseek", "openai", "anthropic", "local",
                                                      "replay"}


def test_models_json_with_key_and_project_config(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, make_repo) -> None:
    repo = make_repo({".engram/config.toml": '[model]\nprovider = "anthropic"\n'
                                             'model = "claude-sonnet-5"\n'})
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    data = run_json(capsys, "--path", str(repo), "--provider", "anthropic")
    assert data["selected"]["ref"] == "anthropic:claude-sonnet-5"
    assert data["selected"]["fallback_from"] is None
    assert data["configured"]["key_set"] is True
    assert {m["provider"] for m in data["models"]} == {"anthropic"}
    assert [m["model"] for m in data["models"] if m["configured"]] == ["claude-sonnet-5"]


def test_models_table_and_a_misconfigured_model(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("ENGRAM_MODEL__MODEL", "deepseek-chta")
    assert main(["models", "--path", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "deepseek-reasoner" in captured.out and "claude-opus-5" in captured.out
    assert "unknown model 'deepseek-chta'" in captured.err and "deepseek-chat" in captured.err


def test_unknown_provider_filter_is_a_one_line_error(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    assert main(["models", "--provider", "nope", "--path", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "unknown provider 'nope'" in err and "Traceback" not in err
