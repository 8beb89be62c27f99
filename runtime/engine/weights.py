"""Put checkpoint tensors (Hugging Face names) into a :class:`CausalLM`, fusing QKV and gate/up."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from runtime.engine.config import ModelConfig
from runtime.engine.errors import ModelLoadError
from runtime.engine.model import CausalLM

TensorGetter = Callable[[str], torch.Tensor]


def build_model(
    cfg: ModelConfig, names: Iterable[str], get: TensorGetter, dtype: torch.dtype, device: torch.device
) -> CausalLM:
    """Create the model on ``device`` from tensors named as in Hugging Face checkpoints."""
    available = set(names)

    def take(name: str) -> torch.Tensor:
        if name not in available:
            raise ModelLoadError(f"checkpoint is missing tensor {name}")
        return get(name).to(device=device, dtype=dtype)

    state: dict[str, torch.Tensor] = {"embed_tokens.weight": take("model.embed_tokens.weight")}
    state["norm.weight"] = take("model.norm.weight")
    if not cfg.tie_word_embeddings:
        # Some checkpoints mark embeddings untied yet ship no lm_head: they are tied in fact.
        state["lm_head.weight"] = take("lm_head.weight") if "lm_head.weight" in available else state["embed_tokens.weight"]
    for i in range(cfg.num_layers):
        src, dst = f"model.layers.{i}.", f"layers.{i}."
        for norm in ("input_layernorm", "post_attention_layernorm"):
            state[f"{dst}{norm}.weight"] = take(f"{src}{norm}.weight")
        attn = f"{src}self_attn."
        state[f"{dst}self_attn.qkv_proj.weight"] = torch.cat([take(f"{attn}{p}_proj.weight") for p in "qkv"])
        if cfg.qkv_bias:
            state[f"{dst}self_attn.qkv_proj.bias"] = torch.cat([take(f"{attn}{p}_proj.bias") for p in "qkv"])
        state[f"{dst}self_attn.o_proj.weight"] = take(f"{attn}o_proj.weight")
        if cfg.qkv_bias and cfg.family in ("llama", "mistral"):
            state[f"{dst}self_attn.o_proj.bias"] = take(f"{attn}o_proj.bias")
        if cfg.qk_norm:
            state[f"{dst}self_attn.q_norm.weight"] = take(f"{attn}q_norm.weight")
            state[f"{dst}self_attn.k_norm.weight"] = take(f"{attn}k_norm.weight")
        mlp = f"{src}mlp."
        state[f"{dst}mlp.gate_up_proj.weight"] = torch.cat([take(f"{mlp}gate_proj.weight"), take(f"{mlp}up_proj.weight")])
        state[f"{dst}mlp.down_proj.weight"] = take(f"{mlp}down_proj.weight")

    with torch.device("meta"):
        model = CausalLM(cfg)
    expected = dict(model.named_parameters())
    for name, tensor in state.items():
        if name in expected and tuple(expected[name].shape) != tuple(tensor.shape):
            raise ModelLoadError(
                f"tensor for {name} has shape {tuple(tensor.shape)}, the config implies {tuple(expected[name].shape)}"
            )
    if cfg.tie_word_embeddings and cfg.vocab_size != state["embed_tokens.weight"].shape[0]:
        raise ModelLoadError("embedding rows do not match vocab_size")
    model.load_state_dict(state, strict=True, assign=True)
    model.reset_rope_(device)
    return model.eval().requires_grad_(False)
