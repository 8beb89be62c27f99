"""Host-side storage for KV tiers: pinned RAM (fast DMA to the GPU) or a memory-mapped file.

The file-backed variant lets a context exceed RAM: the OS pages blocks in and out of the
mapping, and only the blocks the GPU cache misses are ever read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch


class HostAllocator:
    """Makes zero-filled host tensors: pinned when a GPU will copy from them, or backed by files."""

    def __init__(self, pin: bool, directory: Path | None = None) -> None:
        self.pin = pin and torch.cuda.is_available()
        self.directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.bytes_allocated = 0

    def zeros(self, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """A zero-filled tensor on the host."""
        numel = 1
        for n in shape:
            numel *= n
        nbytes = numel * torch.empty((), dtype=dtype).element_size()
        self.bytes_allocated += nbytes
        if self.directory is None:
            return torch.zeros(shape, dtype=dtype, pin_memory=self.pin)
        fd, name = tempfile.mkstemp(prefix="kv-", suffix=".bin", dir=self.directory)
        try:
            os.ftruncate(fd, max(nbytes, 1))  # a sparse file: disk blocks are only used once written
            raw = torch.from_file(name, shared=True, size=max(nbytes, 1), dtype=torch.uint8)
        finally:
            os.close(fd)
            # The mapping keeps the data reachable; unlinking now means no file outlives the
            # process, however it ends (uvicorn re-raises SIGTERM, which skips atexit hooks).
            os.unlink(name)
        return raw[:nbytes].view(dtype).view(shape)
