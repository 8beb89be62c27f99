"""Tiny random-weight checkpoints built with transformers (a test-only dependency)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHAT_TEMPLATE = (
    "{%- if tools %}<|im_start|>system\n# Tools\n{% for t in tools %}{{ t | tojson }}\n{% endfor %}"
    "Call a tool as <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call><|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB = 300

FAMILIES: dict[str, tuple[str, dict[str, Any]]] = {
    "llama": ("LlamaConfig", {}),
    "llama-tied": ("LlamaConfig", {"tie_word_embeddings": True}),
    "llama3-rope": ("LlamaConfig", {"rope_scaling": {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16, "rope_theta": 500000.0}}),
    "yarn-rope": ("LlamaConfig", {"rope_scaling": {
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16, "rope_theta": 10000.0}}),
    "qwen2": ("Qwen2Config", {}),
    "qwen3": ("Qwen3Config", {"head_dim": 32}),
    "mistral": ("MistralConfig", {"sliding_window": None}),
}


def make_engine(path: Path | str, **settings: Any):  # noqa: ANN201
    """An engine on CPU with a small KV cache of 4-token blocks (so tests cross block edges)."""
    from runtime.engine.engine import Engine
    from runtime.engine.settings import EngineSettings

    base: dict[str, Any] = {"device": "cpu", "kv_cache_tokens": 2048, "block_size": 4}
    base.update(settings)
    return Engine.load(str(path), EngineSettings(**base))


def byte_level_tokenizer():  # noqa: ANN201
    """A byte-level BPE tokenizer: 256 byte symbols, a few merges, ChatML specials."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.pre_tokenizers import ByteLevel

    alphabet = ByteLevel.alphabet()
    byte_chars = sorted(alphabet, key=lambda c: ord(c))
    vocab = {c: i for i, c in enumerate(byte_chars)}
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    return tok


def make_hf_model(family: str, folder: Path, seed: int = 0, layers: int = 2):  # noqa: ANN201
    """Save a random tiny model of ``family`` (with tokenizer files) to ``folder``; return the HF model."""
    import transformers

    cls_name, extra = FAMILIES[family]
    torch.manual_seed(seed)
    tok = byte_level_tokenizer()
    eos = tok.token_to_id("<|im_end|>")
    cfg = getattr(transformers, cls_name)(
        hidden_size=64, intermediate_size=128, num_hidden_layers=layers, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=VOCAB, max_position_embeddings=1024, eos_token_id=eos,
        bos_token_id=None, **extra,
    )
    model = transformers.AutoModelForCausalLM.from_config(cfg).eval()
    with torch.no_grad():  # larger weights than the default init, so logits differ meaningfully
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.normal_(0, 0.15)
            else:
                p.uniform_(0.8, 1.2)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"chat_template": CHAT_TEMPLATE, "eos_token": "<|im_end|>", "bos_token": None}))
    return model


def hf_greedy(model, ids: list[int], n: int) -> list[int]:  # noqa: ANN001
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, min_new_tokens=n, do_sample=False)
    return out[0, len(ids):].tolist()


def hf_last_logits(model, ids: list[int]) -> torch.Tensor:  # noqa: ANN001
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0, -1].float()


def write_llama_gguf(model, path: Path, quant: str | None = None, arch: str = "llama") -> None:  # noqa: ANN001
    """Write a HF Llama model as GGUF the way llama.cpp's converter does (Q/K permuted)."""
    import gguf

    cfg = model.config
    tok = byte_level_tokenizer()
    vocab = tok.get_vocab(with_added_tokens=True)
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    types = [3 if t in SPECIALS else 1 for t in tokens]
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(cfg.vocab_size)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(["Ġ t", "h e", "Ġt he"])
    w.add_eos_token_id(vocab["<|im_end|>"])
    w.add_bos_token_id(vocab["<|im_start|>"])
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    def permute(x: np.ndarray, heads: int) -> np.ndarray:
        return x.reshape(heads, 2, x.shape[0] // heads // 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)

    names = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.q_proj": "attn_q",
             "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    for hf, t in model.state_dict().items():
        arr = t.float().numpy()
        if hf == "model.embed_tokens.weight":
            name = "token_embd.weight"
        elif hf == "model.norm.weight":
            name = "output_norm.weight"
        elif hf == "lm_head.weight":
            name = "output.weight"
        else:
            _, _, layer, rest = hf.split(".", 3)
            part, _, suffix = rest.rpartition(".")
            name = f"blk.{layer}.{names[part]}.{suffix}"
            if part == "self_attn.q_proj":
                arr = permute(arr, cfg.num_attention_heads)
            elif part == "self_attn.k_proj":
                arr = permute(arr, cfg.num_key_value_heads)
        if quant and arr.ndim == 2 and name != "token_embd.weight":
            qtype = gguf.GGMLQuantizationType[quant]
            w.add_tensor(name, gguf.quants.quantize(arr, qtype), raw_dtype=qtype)
        else:
            w.add_tensor(name, np.ascontiguousarray(arr))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
