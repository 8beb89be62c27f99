from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_settings, user_config_dir


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_defaults_without_files() -> None:
    s = load_settings(None)
    assert s.model.provider == "deepseek"
    assert s.index.encoding == "o200k_base"


def test_precedence_user_then_project_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(user_config_dir() / "config.toml",
           '[model]\nprovider = "openai"\nmodel = "gpt-4.1"\n[index]\nmax_file_bytes = 10\n')
    repo = tmp_path / "proj"
    _write(repo / ".engram" / "config.toml", '[model]\nmodel = "qwen"\n')
    s = load_settings(repo)
    assert s.model.provider == "openai"  # from the user file
    assert s.model.model == "qwen"  # project beats user
    assert s.index.max_file_bytes == 10
    monkeypatch.setenv("ENGRAM_MODEL__MODEL", "from-env")
    monkeypatch.setenv("ENGRAM_APPROVAL_POLICY", "full-auto")
    s = load_settings(repo)
    assert s.model.model == "from-env"  # environment beats both files
    assert s.model.provider == "openai"  # untouched keys survive the nested merge
    assert s.approval_policy == "full-auto"


def test_bad_toml_is_one_clear_error(tmp_path: Path) -> None:
    _write(tmp_path / ".engram" / "config.toml", "[model\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path)


def test_bad_value_names_the_field(tmp_path: Path) -> None:
    _write(tmp_path / ".engram" / "config.toml", '[index]\nmax_file_bytes = "lots"\n')
    with pytest.raises(ConfigError, match="index.max_file_bytes"):
        load_settings(tmp_path)
