"""Load a GGUF file: metadata -> config, tensors dequantized with ``gguf.quants``, tokenizer, template."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize

from runtime.engine.chat_template import ChatTemplate
from runtime.engine.config import ModelConfig, RopeConfig
from runtime.engine.errors import ModelLoadError, UnsupportedModelError
from runtime.engine.loaded import LoadedModel
from runtime.engine.tokenizer import tokenizer_from_gguf
from runtime.engine.weights import build_model

SUPPORTED_GGUF_ARCHITECTURES = ("llama", "qwen2", "qwen3")
SUPPORTED_QUANT_TYPES = tuple(
    GGMLQuantizationType[name]
    for name in ("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")
)
# GGUF tensor name (after "blk.N.") -> Hugging Face name (after "model.layers.N.").
_LAYER_NAMES = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}
_GLOBAL_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def _field(reader: GGUFReader, key: str) -> Any:
    field = reader.fields.get(key)
    return None if field is None else field.contents()


def hf_name(gguf_name: str) -> str | None:
    """The Hugging Face tensor name for a GGUF one (``None`` for tensors we do not use)."""
    base, _, suffix = gguf_name.rpartition(".")
    if base.startswith("blk."):
        _, layer, part = base.split(".", 2)
        mapped = _LAYER_NAMES.get(part)
        return f"model.layers.{layer}.{mapped}.{suffix}" if mapped else None
    mapped = _GLOBAL_NAMES.get(base)
    return f"{mapped}.{suffix}" if mapped else None


def _unpermute(w: np.ndarray, heads: int) -> np.ndarray:
    # llama.cpp's converter interleaves the rotary halves of Q and K for Llama; undo it.
    rows = w.shape[0]
    return w.reshape(heads, rows // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _config(reader: GGUFReader, arch: str, names: set[str], vocab: int) -> ModelConfig:
    def get(key: str, default: Any = None) -> Any:
        value = _field(reader, f"{arch}.{key}")
        return default if value is None else value

    hidden = int(get("embedding_length"))
    heads = int(get("attention.head_count"))
    head_dim = int(get("attention.key_length", hidden // heads))
    scaling = get("rope.scaling.type", "none")
    rope_type = {"none": "default", "linear": "linear", "yarn": "yarn"}.get(str(scaling))
    if rope_type is None:
        raise UnsupportedModelError(f"GGUF rope scaling {scaling!r} is not supported; supported: none, linear, yarn")
    orig = get("rope.scaling.original_context_length")
    rope = RopeConfig(
        theta=float(get("rope.freq_base", 10000.0)), type=rope_type,
        factor=float(get("rope.scaling.factor", 1.0) or 1.0), original_max_position=int(orig) if orig else None,
    )
    kv = get("attention.head_count_kv", heads)
    return ModelConfig(
        family="llama" if arch == "llama" else arch, vocab_size=int(get("vocab_size", vocab)),
        hidden_size=hidden, intermediate_size=int(get("feed_forward_length")),
        num_layers=int(get("block_count")), num_heads=heads,
        num_kv_heads=int(kv if not isinstance(kv, list) else kv[0]), head_dim=head_dim,
        rms_norm_eps=float(get("attention.layer_norm_rms_epsilon", 1e-6)),
        max_position_embeddings=int(get("context_length", 4096)), rope=rope,
        tie_word_embeddings="output.weight" not in names,
        qkv_bias="blk.0.attn_q.bias" in names, qk_norm="blk.0.attn_q_norm.weight" in names,
    )


def load_gguf(path: Path, dtype: torch.dtype, device: torch.device) -> LoadedModel:
    """Load a GGUF model file."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such file")
    try:
        reader = GGUFReader(str(path))
    except Exception as exc:  # the reader raises ValueError/IndexError/struct errors on bad files
        raise ModelLoadError(f"{path}: not a readable GGUF file ({exc}); it may be truncated") from None
    arch = str(_field(reader, "general.architecture"))
    if arch not in SUPPORTED_GGUF_ARCHITECTURES:
        raise UnsupportedModelError(
            f"GGUF architecture {arch!r} is not supported; supported: {', '.join(SUPPORTED_GGUF_ARCHITECTURES)}"
        )
    meta = {k: f.contents() for k, f in reader.fields.items() if k.startswith("tokenizer.")}
    tensors = {t.name: t for t in reader.tensors}
    for t in reader.tensors:
        if t.tensor_type not in SUPPORTED_QUANT_TYPES:
            raise UnsupportedModelError(
                f"{path.name}: tensor {t.name} uses quant type {t.tensor_type.name}, which is not supported; "
                f"supported: {', '.join(q.name for q in SUPPORTED_QUANT_TYPES)}"
            )
    tokenizer = tokenizer_from_gguf(meta)
    cfg = _config(reader, arch, set(tensors), len(meta.get("tokenizer.ggml.tokens", [])))
    if "rope_freqs.weight" in tensors:
        factors = tuple(float(x) for x in dequantize(tensors["rope_freqs.weight"].data, tensors["rope_freqs.weight"].tensor_type).ravel())
        cfg = _replace_rope(cfg, factors)
    cfg = _with_special_ids(cfg, tokenizer.eos_token_ids, meta)
    by_hf = {hf: name for name in tensors if (hf := hf_name(name)) is not None}

    def get(name: str) -> torch.Tensor:
        t = tensors[by_hf[name]]
        try:
            array = dequantize(t.data, t.tensor_type).reshape([int(d) for d in reversed(t.shape)])
        except (ValueError, IndexError) as exc:
            raise ModelLoadError(f"{path.name}: tensor {t.name} is damaged ({exc})") from None
        if arch == "llama" and name.endswith(("q_proj.weight", "k_proj.weight")):
            array = _unpermute(array, cfg.num_heads if "q_proj" in name else cfg.num_kv_heads)
        return torch.from_numpy(np.array(array, dtype=np.float32))  # a copy: the mmap is read-only

    model = build_model(cfg, by_hf.keys(), get, dtype, device)
    template = meta.get("tokenizer.chat_template")
    return LoadedModel(
        name=path.stem, config=cfg, model=model, tokenizer=tokenizer,
        chat_template=ChatTemplate(template, tokenizer.bos_token, tokenizer.eos_token),
    )


def _replace_rope(cfg: ModelConfig, factors: tuple[float, ...]) -> ModelConfig:
    return replace(cfg, rope=replace(cfg.rope, freq_factors=factors))


def _with_special_ids(cfg: ModelConfig, eos: set[int], meta: dict[str, Any]) -> ModelConfig:
    bos = meta.get("tokenizer.ggml.bos_token_id")
    return replace(cfg, bos_token_id=int(bos) if bos is not None else None, eos_token_ids=tuple(sorted(eos)))
