"""The causal language model: embeddings, decoder layers, final norm, LM head."""

from __future__ import annotations

import torch
from torch import nn

from runtime.engine.attention import AttentionMetadata
from runtime.engine.config import ModelConfig
from runtime.engine.kv_cache import PagedKVCache
from runtime.engine.layers import DecoderLayer, RMSNorm
from runtime.engine.rope import inverse_frequencies, rope_cos_sin


class CausalLM(nn.Module):
    """A Llama-family decoder over a flat batch of tokens from many sequences."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.lm_head = None if cfg.tie_word_embeddings else nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        inv_freq, self.rope_scale = inverse_frequencies(cfg.rope, cfg.head_dim, cfg.max_position_embeddings)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def reset_rope_(self, device: torch.device) -> None:
        """Recompute the rotary table on ``device`` (after loading weights onto a meta-built model)."""
        inv_freq, self.rope_scale = inverse_frequencies(
            self.config.rope, self.config.head_dim, self.config.max_position_embeddings
        )
        self.inv_freq = inv_freq.to(device)

    def forward(
        self, input_ids: torch.Tensor, positions: torch.Tensor, cache: PagedKVCache, meta: AttentionMetadata
    ) -> torch.Tensor:
        """Hidden states [T, hidden] after the final norm for tokens ``input_ids`` [T]."""
        x = self.embed_tokens(input_ids)
        cos, sin = rope_cos_sin(positions, self.inv_freq, self.rope_scale, x.dtype)
        for layer, layer_cache in zip(self.layers, cache.layers):
            x = layer(x, cos, sin, layer_cache, meta)
        return self.norm(x)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Float32 next-token logits for hidden states [N, hidden]."""
        weight = self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return (hidden @ weight.t()).float()


def init_random_(model: CausalLM, std: float = 0.02, seed: int = 0) -> None:
    """Fill weights with small random values (benchmarks and tests without a checkpoint)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight"):
                param.fill_(1.0)
            else:
                gen = torch.Generator(device=param.device).manual_seed(seed + hash(name) % 10_000)
                param.normal_(0.0, std, generator=gen)
