"""Load a Hugging Face checkpoint folder: config.json, (sharded) safetensors, tokenizer files."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from runtime.engine.chat_template import ChatTemplate
from runtime.engine.config import config_from_hf
from runtime.engine.errors import ModelLoadError
from runtime.engine.loaded import LoadedModel
from runtime.engine.tokenizer import tokenizer_from_folder
from runtime.engine.weights import build_model


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: cannot be read as JSON: {exc}") from None


def _weight_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(_read_json(index).get("weight_map", {}).values()))
        missing = [s for s in shards if not (folder / s).is_file()]
        if missing:
            raise ModelLoadError(f"{folder}: weight shard(s) missing: {', '.join(missing)}")
        return [folder / s for s in shards]
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        extra = " (PyTorch .bin weights are not supported; convert to safetensors)" if any(folder.glob("*.bin")) else ""
        raise ModelLoadError(f"{folder}: no .safetensors weight file{extra}")
    return files


def load_hf_folder(folder: Path, dtype: torch.dtype, device: torch.device) -> LoadedModel:
    """Load the checkpoint in ``folder``; tensors are memory-mapped and copied once to ``device``."""
    cfg = config_from_hf(_read_json(folder / "config.json"))
    gen_path = folder / "generation_config.json"
    gen = _read_json(gen_path) if gen_path.is_file() else {}
    gen_eos = gen.get("eos_token_id")
    eos = set(cfg.eos_token_ids) | set(gen_eos if isinstance(gen_eos, list) else ([gen_eos] if gen_eos is not None else []))
    tokenizer, template = tokenizer_from_folder(folder, tuple(eos))
    with ExitStack() as stack:
        where: dict[str, Any] = {}
        for path in _weight_files(folder):
            try:
                handle = stack.enter_context(safe_open(str(path), framework="pt", device="cpu"))
            except Exception as exc:  # safetensors raises SafetensorError for truncated/corrupt files
                raise ModelLoadError(f"{path}: not a valid safetensors file ({exc}); re-download it") from None
            for key in handle.keys():
                where[key] = handle

        def get(name: str) -> torch.Tensor:
            try:
                return where[name].get_tensor(name)
            except Exception as exc:
                raise ModelLoadError(f"tensor {name} cannot be read ({exc}); the file may be truncated") from None

        model = build_model(cfg, where.keys(), get, dtype, device)
    defaults = {k: gen[k] for k in ("temperature", "top_p", "top_k", "repetition_penalty") if k in gen}
    if not gen.get("do_sample", True):
        defaults["temperature"] = 0.0
    return LoadedModel(
        name=folder.name, config=cfg, model=model, tokenizer=tokenizer,
        chat_template=ChatTemplate(template, tokenizer.bos_token, tokenizer.eos_token),
        generation_defaults=defaults,
    )
