"""A pool of fixed-size KV blocks: a free list in eviction order, reference counts, prefix reuse.

A block whose tokens are all written gets a hash chained to its predecessor's, so a later
request with the same prefix can share it (ref count > 1) instead of recomputing it. A freed
block keeps its hash while it waits in the free list and is only forgotten when reallocated.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(eq=False)
class KVBlock:
    """One block of ``block_size`` token slots in every layer's cache."""

    block_id: int
    ref_count: int = 0
    block_hash: int | None = None
    token_ids: tuple[int, ...] | None = None
    """The tokens a cached block holds; compared on lookup so a hash collision cannot alias."""


class BlockPool:
    """Allocates and frees :class:`KVBlock` s; knows nothing about requests."""

    def __init__(self, num_blocks: int) -> None:
        if num_blocks < 1:
            raise ValueError("a KV block pool needs at least one block")
        self.blocks = [KVBlock(i) for i in range(num_blocks)]
        # Least recently freed first: the order in which cached blocks are evicted.
        self._free: OrderedDict[int, KVBlock] = OrderedDict((b.block_id, b) for b in self.blocks)
        self._cached: dict[int, KVBlock] = {}

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    @property
    def num_free(self) -> int:
        """Blocks that can be handed out now (including evictable cached ones)."""
        return len(self._free)

    def allocate(self, count: int) -> list[KVBlock]:
        """Take ``count`` blocks from the free list (evicting cached ones); raises if too few."""
        if count > len(self._free):
            raise MemoryError(f"KV cache: {count} blocks wanted, {len(self._free)} free")
        out = []
        for _ in range(count):
            _, block = self._free.popitem(last=False)
            self._forget(block)
            block.ref_count = 1
            out.append(block)
        return out

    def touch(self, blocks: list[KVBlock]) -> None:
        """Take one more reference to each block (a request sharing a cached prefix)."""
        for block in blocks:
            if block.ref_count == 0:
                self._free.pop(block.block_id, None)
            block.ref_count += 1

    def free(self, blocks: list[KVBlock]) -> None:
        """Drop one reference to each block; unreferenced blocks return to the free list.

        Blocks are freed tail first so a sequence's last blocks are evicted before its prefix,
        which other requests are more likely to share.
        """
        for block in reversed(blocks):
            block.ref_count -= 1
            if block.ref_count < 0:
                raise RuntimeError(f"KV block {block.block_id} freed twice")
            if block.ref_count == 0:
                self._free[block.block_id] = block

    def cache(self, block: KVBlock, block_hash: int, token_ids: tuple[int, ...]) -> None:
        """Record that ``block`` holds ``token_ids`` after the prefix identified by its hash."""
        if block.block_hash is not None:
            return
        block.block_hash, block.token_ids = block_hash, token_ids
        self._cached.setdefault(block_hash, block)

    def lookup(self, block_hash: int, token_ids: tuple[int, ...]) -> KVBlock | None:
        """The cached block with this hash and exactly these tokens, if any."""
        block = self._cached.get(block_hash)
        return block if block is not None and block.token_ids == token_ids else None

    def _forget(self, block: KVBlock) -> None:
        if block.block_hash is not None and self._cached.get(block.block_hash) is block:
            del self._cached[block.block_hash]
        block.block_hash = block.token_ids = None
