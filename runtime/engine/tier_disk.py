"""The disk tier for one sequence: its KV blocks in every layer, in one safetensors file.

safetensors keeps the exact bytes (FP8 included) and reads lazily through a memory map, so
restoring a suspended session touches only the file, never a tokenizer or the model. Files
are written to a temporary name and renamed into place: a crash leaves the old file or none,
never half of one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from runtime.engine.errors import EngineError
from runtime.engine.kv_cache import LayerStorage

FORMAT = "engram-kv-1"


def save_blocks(path: Path, layers: Sequence[LayerStorage], block_ids: list[int], metadata: dict[str, str],
                extra: dict[str, torch.Tensor] | None = None) -> int:
    """Write ``block_ids`` of every layer (in order) to ``path``; return the file's size in bytes."""
    ids = torch.tensor(block_ids, dtype=torch.long)
    tensors: dict[str, torch.Tensor] = dict(extra or {})
    for i, layer in enumerate(layers):
        for name, t in layer.read_blocks(ids).items():
            tensors[f"layer{i}.{name}"] = t.detach().cpu().contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata={**metadata, "format": FORMAT, "num_blocks": str(len(block_ids))})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.stat().st_size


def read_metadata(path: Path) -> dict[str, str]:
    """The string metadata of a saved sequence; :class:`EngineError` if it is not one."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
    except FileNotFoundError:
        raise EngineError(f"{path}: no such KV session file") from None
    except (SafetensorError, OSError, ValueError) as exc:  # a damaged or foreign file
        raise EngineError(f"{path}: not a readable KV session file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise EngineError(f"{path}: not an Engram KV session file")
    return meta


def load_blocks(path: Path, layers: Sequence[LayerStorage], block_ids: list[int]) -> dict[str, torch.Tensor]:
    """Copy the saved blocks into ``block_ids`` of every layer; return the file's extra tensors."""
    meta = read_metadata(path)
    if int(meta["num_blocks"]) != len(block_ids):
        raise EngineError(f"{path}: holds {meta['num_blocks']} blocks, {len(block_ids)} were allocated")
    ids = torch.tensor(block_ids, dtype=torch.long)
    extra: dict[str, torch.Tensor] = {}
    with safe_open(str(path), framework="pt") as f:
        names = list(f.keys())
        for i, layer in enumerate(layers):
            prefix = f"layer{i}."
            data = {n[len(prefix):]: f.get_tensor(n) for n in names if n.startswith(prefix)}
            if not data:
                raise EngineError(f"{path}: saved with fewer layers than this model has")
            layer.write_blocks(ids, data)
        for n in names:
            if not n.startswith("layer"):
                extra[n] = f.get_tensor(n)
    return extra
