"""Host-side storage for KV tiers: pinned RAM (fast DMA to the GPU) or a memory-mapped file.

The file-backed variant lets a context exceed RAM: the OS pages blocks in and out of the
mapping, and only the blocks the GPU cache misses are ever read.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import torch


class HostAllocator:
    """Makes zero-filled host tensors: pinned when a GPU will copy from them, or backed by files."""

    def __init__(self, pin: bool, directory: Path | None = None) -> None:
        self.pin = pin and torch.cuda.is_available()
        self.directory: Path | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self.directory = Path(tempfile.mkdtemp(prefix="kv-", dir=directory))
            # The mapping files are scratch: they go when the allocator does (or at exit).
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.directory), True)
        self._count = 0
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
        path = self.directory / f"t{self._count}.bin"
        self._count += 1
        with open(path, "wb") as f:  # a sparse file: disk blocks are only used once written
            f.truncate(max(nbytes, 1))
        raw = torch.from_file(str(path), shared=True, size=max(nbytes, 1), dtype=torch.uint8)
        return raw[:nbytes].view(dtype).view(shape)

    def close(self) -> None:
        """Delete the mapping files now (tensors that view them must no longer be used)."""
        if self.directory is not None:
            self._cleanup()
