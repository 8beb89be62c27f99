"""Each request's block table: which pool blocks hold its tokens, grown as it advances."""

from __future__ import annotations

from collections.abc import Sequence

from runtime.engine.block_pool import BlockPool, KVBlock


def chain_hash(parent: int | None, token_ids: tuple[int, ...]) -> int:
    """Hash of a full block given its predecessor's hash (the identity of a prefix)."""
    return hash((parent, token_ids))


class KVCacheManager:
    """Maps request ids to block tables over one :class:`BlockPool`."""

    def __init__(self, pool: BlockPool, block_size: int, enable_prefix_caching: bool = True) -> None:
        self.pool = pool
        self.block_size = block_size
        self.enable_prefix_caching = enable_prefix_caching
        self._tables: dict[str, list[KVBlock]] = {}
        self._num_hashed: dict[str, int] = {}

    def blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def block_ids(self, request_id: str) -> list[int]:
        return [b.block_id for b in self._tables.get(request_id, [])]

    def cached_prefix(self, token_ids: Sequence[int]) -> list[KVBlock]:
        """Longest run of cached full blocks matching the start of ``token_ids``.

        At least one token is always left to compute so the model yields logits to sample from.
        """
        if not self.enable_prefix_caching:
            return []
        found: list[KVBlock] = []
        parent: int | None = None
        for start in range(0, len(token_ids) - 1 - self.block_size + 1, self.block_size):
            chunk = tuple(token_ids[start : start + self.block_size])
            h = chain_hash(parent, chunk)
            block = self.pool.lookup(h, chunk)
            if block is None:
                break
            found.append(block)
            parent = h
        return found

    def allocate(
        self, request_id: str, total_tokens: int, prefix_blocks: Sequence[KVBlock] = ()
    ) -> bool:
        """Make the request's table cover ``total_tokens``; False (nothing changed) if the pool is short."""
        table = self._tables.get(request_id)
        if table is None:
            # Shared prefix blocks that sit in the free list are not free for this request.
            reclaimable = sum(1 for b in prefix_blocks if b.ref_count == 0)
            need = self.blocks_for(total_tokens) - len(prefix_blocks)
            if need > self.pool.num_free - reclaimable:
                return False
            self.pool.touch(list(prefix_blocks))
            table = self._tables[request_id] = list(prefix_blocks)
            self._num_hashed[request_id] = len(prefix_blocks)
        need = self.blocks_for(total_tokens) - len(table)
        if need > self.pool.num_free:
            if not table:
                del self._tables[request_id]
            return False
        if need > 0:
            table.extend(self.pool.allocate(need))
        return True

    def commit(self, request_id: str, token_ids: Sequence[int], num_computed: int) -> None:
        """Publish the request's newly filled blocks for prefix reuse."""
        if not self.enable_prefix_caching:
            return
        table = self._tables.get(request_id, [])
        done = self._num_hashed.get(request_id, 0)
        full = min(num_computed // self.block_size, len(table))
        parent = table[done - 1].block_hash if done else None
        for i in range(done, full):
            chunk = tuple(token_ids[i * self.block_size : (i + 1) * self.block_size])
            h = chain_hash(parent, chunk)
            self.pool.cache(table[i], h, chunk)
            parent = table[i].block_hash
        self._num_hashed[request_id] = max(done, full)

    def free(self, request_id: str) -> None:
        """Release every block the request holds (finish, abort or preemption)."""
        table = self._tables.pop(request_id, None)
        self._num_hashed.pop(request_id, None)
        if table:
            self.pool.free(table)
