"""Engine settings (a future ``[engine]`` table of config.toml) and device/dtype resolution."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, Field, model_validator

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
    """Replay decode steps as CUDA graphs (GPU only; off while blocks live in tiers or attention is sparse)."""
    kv_dtype: Literal["auto", "bf16", "fp8"] = "auto"
    """KV storage: ``auto`` keeps the model's dtype (float32 on CPU); ``bf16`` stores bfloat16 whatever the model's
    dtype (attention still computes in the model's dtype); ``fp8`` stores e4m3 with scales (see :mod:`kv_fp8`)."""
    kv_offload: Literal["none", "cpu", "disk"] = "none"
    """Where blocks live: all on the device (``none``), homed in host RAM (``cpu``) or in memory-mapped files
    (``disk``) with the GPU caching the blocks in use."""
    sparse_budget: int = Field(default=2048, ge=0)
    """Tokens each query attends to once a sequence is longer (top-k blocks + sinks + window); 0: always dense."""
    sparse_prefill_budget: int = Field(default=4096, ge=0)
    """Old-context tokens each prefill query attends to beyond its dense band (at least the decode budget)."""
    sparse_refine: int = Field(default=8, ge=1)
    """Decode shortlists this many times the budget by Quest bound, then keeps the best by exact q.k (1: bound only)."""
    sparse_sink_tokens: int = Field(default=16, ge=0)
    """Leading tokens every query attends to."""
    sparse_window_tokens: int = Field(default=256, ge=0)
    """Recent tokens every query attends to (capped at a quarter of the budget)."""
    gpu_kv_gib: float | None = Field(default=None, gt=0)
    """GPU memory for KV in GiB: the GPU tier with offload, else a cap on the device cache (default: from free memory)."""
    kv_disk_dir: Path | None = None
    """Folder for ``--kv-offload disk`` mappings and suspended sessions (default ``~/.cache/engram/kv``)."""

    @model_validator(mode="after")
    def _check(self) -> EngineSettings:
        if self.block_size < 1:
            raise ValueError("block_size must be at least 1")
        if 0 < self.sparse_budget < 2 * self.block_size:
            raise ValueError(f"sparse budget must be 0 (dense) or at least {2 * self.block_size} tokens (two blocks)")
        return self

    def disk_dir(self) -> Path:
        return self.kv_disk_dir or Path.home() / ".cache" / "engram" / "kv"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EngineError(f"device {name!r} requested but CUDA is not available; use --device cpu")
    return device


def kv_storage_dtype(kv_dtype: str, model_dtype: torch.dtype) -> torch.dtype | None:
    """The unquantized KV storage dtype for ``--kv-dtype`` (None for ``fp8``, which has its own encoding)."""
    return {"auto": model_dtype, "bf16": torch.bfloat16}.get(kv_dtype)


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    if dtype is torch.float16 and device.type == "cpu":
        raise EngineError("float16 is not supported on CPU; use float32 or bfloat16")
    return dtype
