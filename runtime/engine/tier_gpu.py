"""The GPU tier: a fixed set of device slots caching KV blocks whose home is the host tier.

:class:`SlotCache` is the policy (block -> slot, least recently used evicted first, never a
block the current step needs). :class:`TierCopier` moves bytes: on CUDA, host-to-device copies
run on their own stream, wait for the last read of the slots they overwrite, and the compute
stream waits on the copy's event before it reads, so a block is never read before it landed.
On CPU the copies are plain synchronous tensor copies.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch

from runtime.engine.errors import EngineError


class TierCapacityError(EngineError):
    """One step needs more blocks on the GPU at once than the GPU tier holds."""


@dataclass
class TierStats:
    """Counters the server exports (all layers together)."""

    hits: int = 0
    misses: int = 0
    bytes_to_gpu: int = 0
    bytes_to_host: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 1.0


class SlotCache:
    """Maps block ids to device slots with LRU eviction."""

    def __init__(self, num_slots: int) -> None:
        self.num_slots = num_slots
        self._slot_of: OrderedDict[int, int] = OrderedDict()  # least recently used first
        self._free = list(range(num_slots - 1, -1, -1))

    def __len__(self) -> int:
        return len(self._slot_of)

    def assign(self, blocks: list[int]) -> tuple[list[int], list[int]]:
        """Slots for distinct ``blocks``; returns (slots, positions in ``blocks`` that missed)."""
        if len(blocks) > self.num_slots:
            raise TierCapacityError(
                f"this step needs {len(blocks)} KV blocks per layer on the GPU but the GPU tier holds "
                f"{self.num_slots}; raise --gpu-kv-gib or lower --sparse-budget / --max-num-seqs"
            )
        wanted = set(blocks)
        slots: list[int] = []
        missed: list[int] = []
        for i, block in enumerate(blocks):
            slot = self._slot_of.get(block)
            if slot is None:
                slot = self._take(wanted)
                self._slot_of[block] = slot
                missed.append(i)
            else:
                self._slot_of.move_to_end(block)
            slots.append(slot)
        return slots, missed

    def discard(self, blocks: list[int]) -> None:
        """Forget ``blocks`` (their home copy changed behind the cache's back)."""
        for block in blocks:
            slot = self._slot_of.pop(block, None)
            if slot is not None:
                self._free.append(slot)

    def _take(self, wanted: set[int]) -> int:
        if self._free:
            return self._free.pop()
        for block in self._slot_of:  # oldest first; skip blocks this step is using
            if block not in wanted:
                return self._slot_of.pop(block)
        raise AssertionError("unreachable: capacity was checked")


class TierCopier:
    """Copies blocks between host and device storage (one per engine, shared by all layers)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.stream = torch.cuda.Stream(device) if device.type == "cuda" else None

    def to_device(self, dst: object, dst_slots: torch.Tensor, data: dict[str, torch.Tensor],
                  after: torch.cuda.Event | None) -> None:
        """Write host ``data`` into device slots; returns once the compute stream is ordered after it."""
        if self.stream is None:
            dst.write_blocks(dst_slots, data)  # type: ignore[attr-defined]
            return
        pinned = {name: t.pin_memory() for name, t in data.items()}
        with torch.cuda.stream(self.stream):
            if after is not None:  # the slots' previous contents may still be being read
                self.stream.wait_event(after)
            dst.write_blocks(dst_slots.to(self.device, non_blocking=True), pinned)  # type: ignore[attr-defined]
            landed = torch.cuda.Event()
            landed.record(self.stream)
        torch.cuda.current_stream(self.device).wait_event(landed)

    def read_done(self) -> torch.cuda.Event | None:
        """An event after every read enqueued so far on the compute stream (None on CPU)."""
        if self.stream is None:
            return None
        event = torch.cuda.Event()
        event.record(torch.cuda.current_stream(self.device))
        return event
