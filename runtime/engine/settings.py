"""Engine settings (a future ``[engine]`` table of config.toml) and device/dtype resolution."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel

from runtime.engine.errors import EngineError


class EngineSettings(BaseModel):
    """How the local engine uses the machine."""

    device: str = "auto"
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``cuda:N``."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """``auto``: bfloat16 on GPU, float32 on CPU."""
    block_size: int = 16
    """Tokens per KV block."""
    kv_cache_tokens: int | None = None
    """KV capacity in tokens; default: most of the free GPU memory, or twice the context on CPU."""
    gpu_memory_utilization: float = 0.85
    """Share of free GPU memory (after weights) the KV cache may take."""
    max_num_seqs: int = 8
    """Sequences decoded together."""
    max_num_batched_tokens: int | None = None
    """Tokens computed per step (the chunked-prefill budget); default 512 on CPU, 8192 on GPU."""
    max_model_len: int | None = None
    """Cap on the context window (default: the model's)."""
    enable_prefix_caching: bool = True
    """Share KV blocks between requests with a common prompt prefix."""
    cuda_graphs: bool = True
    """Replay decode steps as CUDA graphs (GPU only)."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EngineError(f"device {name!r} requested but CUDA is not available; use --device cpu")
    return device


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    if dtype is torch.float16 and device.type == "cpu":
        raise EngineError("float16 is not supported on CPU; use float32 or bfloat16")
    return dtype
