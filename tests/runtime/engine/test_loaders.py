"""GGUF and Hugging Face loading, including the files users get wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from engine_helpers import hf_greedy, hf_last_logits, make_engine, write_llama_gguf

from runtime.engine.errors import ModelLoadError, UnsupportedModelError
from runtime.engine.sampling import SamplingParams

PROMPT = [5, 17, 42, 99, 3, 250, 7, 8, 120, 64]


@pytest.fixture(scope="module")
def llama(tiny_models: dict) -> tuple[Path, object]:
    return tiny_models["llama"]


def test_gguf_f32_matches_transformers_through_the_qk_permutation(llama: tuple, tmp_path: Path) -> None:
    folder, hf = llama
    path = tmp_path / "tiny.gguf"
    write_llama_gguf(hf, path)
    engine = make_engine(path)
    engine.add_request(PROMPT, SamplingParams(max_tokens=1, temperature=0))
    _, logits = engine.runner.execute(engine.scheduler.schedule().chunks)
    torch.testing.assert_close(logits[0], hf_last_logits(hf, PROMPT), atol=2e-4, rtol=1e-4)
    engine.abort(next(iter(engine.scheduler.running)).request_id)
    out = engine.generate(PROMPT, SamplingParams(max_tokens=10, temperature=0, ignore_eos=True))
    assert out.token_ids == hf_greedy(hf, PROMPT, 10)
    # Tokenizer and chat template come from the GGUF metadata.
    text = "the cat <|im_end|>"
    assert engine.tokenizer.encode(text) == make_engine(folder).tokenizer.encode(text)
    assert engine.tokenizer.decode(engine.tokenizer.encode("héllo ✓")) == "héllo ✓"
    assert engine.chat_template.render([{"role": "user", "content": "hi"}]).endswith("<|im_start|>assistant\n")
    assert engine.tokenizer.token_id("<|im_end|>") in engine.tokenizer.eos_token_ids


@pytest.mark.parametrize("quant", ["Q8_0", "Q4_0", "Q4_1", "Q5_0"])
def test_quantized_gguf_equals_the_dequantized_reference(llama: tuple, tmp_path: Path, quant: str) -> None:
    import copy

    import gguf

    _, hf = llama
    path = tmp_path / f"tiny-{quant}.gguf"
    write_llama_gguf(hf, path, quant=quant)
    # Reference: the HF model with every quantized matrix replaced by its round trip through gguf.
    ref = copy.deepcopy(hf)
    qtype = gguf.GGMLQuantizationType[quant]
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if p.ndim == 2 and "embed_tokens" not in name:
                q = gguf.quants.quantize(p.numpy(), qtype)
                p.copy_(torch.from_numpy(gguf.quants.dequantize(q, qtype).reshape(p.shape)))
    engine = make_engine(path)
    engine.add_request(PROMPT, SamplingParams(max_tokens=1, temperature=0))
    _, logits = engine.runner.execute(engine.scheduler.schedule().chunks)
    torch.testing.assert_close(logits[0], hf_last_logits(ref, PROMPT), atol=3e-4, rtol=1e-4)


def test_gguf_unsupported_architecture_lists_supported(llama: tuple, tmp_path: Path) -> None:
    path = tmp_path / "gpt2.gguf"
    write_llama_gguf(llama[1], path, arch="gpt2")
    with pytest.raises(UnsupportedModelError, match="'gpt2' is not supported; supported: llama, qwen2, qwen3"):
        make_engine(path)


def test_gguf_unsupported_quant_type_is_named(llama: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runtime.engine.loader_gguf as lg

    path = tmp_path / "q8.gguf"
    write_llama_gguf(llama[1], path, quant="Q8_0")
    monkeypatch.setattr(lg, "SUPPORTED_QUANT_TYPES", tuple(q for q in lg.SUPPORTED_QUANT_TYPES if q.name != "Q8_0"))
    with pytest.raises(UnsupportedModelError, match=r"quant type Q8_0, which is not supported; supported: F32, F16"):
        make_engine(path)


def test_truncated_and_missing_gguf(llama: tuple, tmp_path: Path) -> None:
    path = tmp_path / "cut.gguf"
    write_llama_gguf(llama[1], path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="truncated|damaged"):
        make_engine(path)
    with pytest.raises(ModelLoadError, match="not found"):
        make_engine(tmp_path / "absent.gguf")


def _copy(folder: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(folder, dst)
    return dst


def test_hf_unsupported_architecture_lists_supported(llama: tuple, tmp_path: Path) -> None:
    folder = _copy(llama[0], tmp_path)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["architectures"] = ["GPT2LMHeadModel"]
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UnsupportedModelError, match="GPT2LMHeadModel is not supported; supported: LlamaForCausalLM"):
        make_engine(folder)


def test_hf_truncated_and_missing_weights(llama: tuple, tmp_path: Path) -> None:
    folder = _copy(llama[0], tmp_path)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) - 1000])
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        make_engine(folder)
    weights.unlink()
    with pytest.raises(ModelLoadError, match="no .safetensors weight file"):
        make_engine(folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelLoadError):
        make_engine(folder)


def test_hf_sharded_checkpoint_loads(llama: tuple, tmp_path: Path) -> None:
    _, hf = llama
    folder = tmp_path / "sharded"
    hf.save_pretrained(folder, max_shard_size="100KB")
    shutil.copy(llama[0] / "tokenizer.json", folder)
    assert (folder / "model.safetensors.index.json").is_file()
    engine = make_engine(folder)
    out = engine.generate(PROMPT, SamplingParams(max_tokens=6, temperature=0, ignore_eos=True))
    assert out.token_ids == hf_greedy(hf, PROMPT, 6)
    shard = sorted(folder.glob("model-*.safetensors"))[-1]
    shard.unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        make_engine(folder)
