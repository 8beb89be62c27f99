"""Pick the loader for a model reference (GGUF file, Hugging Face folder, pulled name)."""

from __future__ import annotations

from pathlib import Path

import torch

from runtime.engine.errors import ModelLoadError
from runtime.engine.loaded import LoadedModel
from runtime.engine.loader_gguf import load_gguf
from runtime.engine.loader_hf import load_hf_folder
from runtime.engine.pull import resolve


def load_model(ref: str | Path, dtype: torch.dtype, device: torch.device, cache: Path | None = None) -> LoadedModel:
    """Load whatever ``ref`` names onto ``device``."""
    path = resolve(str(ref), cache)
    if path.is_file():
        if path.suffix != ".gguf":
            raise ModelLoadError(f"{path}: not a .gguf file; give a GGUF file or a Hugging Face folder")
        return load_gguf(path, dtype, device)
    if (path / "config.json").is_file():
        return load_hf_folder(path, dtype, device)
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return load_gguf(ggufs[0], dtype, device)
    raise ModelLoadError(f"{path}: neither a Hugging Face folder (config.json) nor a folder with one .gguf file")
