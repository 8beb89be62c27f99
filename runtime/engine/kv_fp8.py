"""FP8 (e4m3) KV storage: per-block, per-head scales, keys centred per channel within each block.

Values: ``v ~= q_v * s_v``, one scale per block and KV head (``amax / 448``). Keys: ``k ~= o +
q_k * s_k`` where ``o`` [block, head, channel] is the midpoint of the block's keys in that
channel (stored as bfloat16) and ``s_k`` scales the residual. e4m3's relative error is the same
at any scale (3 mantissa bits), so finer scales alone barely help; what helps is storing smaller
numbers. Keys have outlier channels with a large, slowly varying offset (KIVI's observation; after
RoPE the low-frequency channels rotate little within a 16-token block), so the residual
``k - o`` is several times smaller than ``k`` in exactly the channels that dominate ``q . k``.
bench/results/longctx.md has the measurements (per-layer attention error and passkey logit
margins on SmolLM2 for per-token, per-channel, e5m2 and offset variants). Cost for the
Llama-3.1-8B shape (32 layers, 8 KV heads, head dim 128, 16-token blocks): 64 KiB of e4m3 per
token, plus 128 B of scales and 4 KiB of key offsets (6.4% over plain FP8; bf16 is 128 KiB).

A block written from offset 0 starts afresh: its key offsets are the midpoints of the keys
written then (a full block during prefill, one token during decode). Later writes to the block
keep its offsets and re-encode it only if its scale must grow, so stored tokens are rounded
again only when the scale changes.

Scales are powers of two (as in the OCP MX formats' shared exponents). e4m3's relative precision
does not depend on the scale, so this costs at most one bit of subnormal range, and it makes
re-encoding exact: when decode appends a token that grows a block's scale, the stored values
are only shifted in exponent, never rounded again (except those that fall into the subnormals).

Error bound (per element; ``r`` the residual ``x - o`` (``x`` for values), ``s`` the scale): one
encode rounds to 3 mantissa bits, ``|x - deq(q(x))| <= |r| / 16 + s / 1024`` (the second term
covers e4m3 subnormals); re-encodes after the scale grew add at most ``s / 1024`` in all (the
subnormal rounding of a geometric series of power-of-two scales), so ``|r| / 16 + s / 512``
with ``s`` the final scale. :func:`fp8_error_bound` states it and the tests check it.

The CPU path below is plain torch; on CUDA, :mod:`fp8_attention_triton` reads these blocks and
dequantizes inside the attention kernel instead of materializing higher-precision copies.
"""

from __future__ import annotations

import torch

from runtime.engine.block_summary import BlockSummary
from runtime.engine.kv_cache import head_index, to_device

FP8_DTYPE = torch.float8_e4m3fn
FP8_MAX = 448.0
OFFSET_DTYPE = torch.bfloat16
_MIN_SCALE = 2.0**-40


def fp8_error_bound(residual: torch.Tensor, scale: torch.Tensor, reencoded: bool = False) -> torch.Tensor:
    """Largest round-trip error allowed for stored residuals with (final) ``scale`` (broadcastable)."""
    return residual.abs() / 16 + scale / (512 if reencoded else 1024)


def block_scales(x: torch.Tensor) -> torch.Tensor:
    """Power-of-two scales [n, heads] for blocks ``x`` [n, block_size, heads, d]: amax / 448 rounded up."""
    amax = x.float().abs().amax(dim=(1, 3))
    return torch.exp2(torch.ceil(torch.log2((amax / FP8_MAX).clamp(min=_MIN_SCALE))))


def channel_midpoints(x: torch.Tensor) -> torch.Tensor:
    """Key offsets [n, heads, d] for blocks ``x`` [n, block_size, heads, d]: per-channel (min + max) / 2."""
    return ((x.amax(dim=1) + x.amin(dim=1)) / 2).to(OFFSET_DTYPE)


def quantize(x: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Encode blocks ``x`` [n, bs, heads, d] with ``scales`` [n, heads] as e4m3."""
    scaled = x.float() / scales[:, None, :, None]
    return scaled.clamp(-FP8_MAX, FP8_MAX).to(FP8_DTYPE)


def dequantize(q: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype,
               offsets: torch.Tensor | None = None) -> torch.Tensor:
    """Decode ``q`` [..., bs, d] given ``scales`` [...] and optional ``offsets`` [..., d] into ``dtype``."""
    x = q.float() * scales[..., None, None]
    if offsets is not None:
        x = x + offsets.float()[..., None, :]
    return x.to(dtype)


class Fp8LayerKV:
    """One layer's K/V as e4m3 blocks with per-block, per-head float32 scales and bf16 key offsets."""

    def __init__(self, num_blocks: int, block_size: int, num_kv_heads: int, head_dim: int,
                 compute_dtype: torch.dtype, device: torch.device, summary: bool = False,
                 storage: dict[str, torch.Tensor] | None = None) -> None:
        if storage is None:
            specs = self.tensor_specs(num_blocks, block_size, num_kv_heads, head_dim)
            storage = {name: torch.zeros(shape, dtype=dtype, device=device) for name, (shape, dtype) in specs.items()}
            storage["k_scale"].fill_(_MIN_SCALE)
            storage["v_scale"].fill_(_MIN_SCALE)
        self.k, self.v = storage["k"], storage["v"]
        self.k_scale, self.v_scale, self.k_offset = storage["k_scale"], storage["v_scale"], storage["k_offset"]
        self.block_size, self.num_blocks, self.compute_dtype = block_size, num_blocks, compute_dtype
        self.summary = (BlockSummary(num_blocks, block_size, num_kv_heads, head_dim, compute_dtype, device)
                        if summary else None)
        self.fused_kernel_ok = True
        """Cleared when the Triton kernel fails on this storage, so decode stays on the torch path."""

    @staticmethod
    def tensor_specs(num_blocks: int, block_size: int, num_kv_heads: int, head_dim: int
                     ) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
        """Name -> (shape, dtype) of every tensor one layer stores (what tiers allocate and copy)."""
        shape = (num_blocks, block_size, num_kv_heads, head_dim)
        return {"k": (shape, FP8_DTYPE), "v": (shape, FP8_DTYPE),
                "k_scale": ((num_blocks, num_kv_heads), torch.float32),
                "v_scale": ((num_blocks, num_kv_heads), torch.float32),
                "k_offset": ((num_blocks, num_kv_heads, head_dim), OFFSET_DTYPE)}

    @classmethod
    def bytes_per_block(cls, num_layers: int, block_size: int, num_kv_heads: int, head_dim: int) -> int:
        """One block across all layers: K and V bytes, their scales and the key offsets."""
        specs = cls.tensor_specs(1, block_size, num_kv_heads, head_dim)
        per_layer = sum(torch.Size(shape).numel() * torch.empty((), dtype=dtype).element_size()
                        for shape, dtype in specs.values())
        return num_layers * per_layer

    def write(self, k: torch.Tensor, v: torch.Tensor, slot_mapping: torch.Tensor) -> None:
        """Store keys/values [T, heads, d] at flat slots [T], re-encoding every block they touch."""
        bs = self.block_size
        blocks = torch.div(slot_mapping, bs, rounding_mode="floor")
        offsets = slot_mapping % bs
        touched = torch.unique(blocks)
        which = torch.searchsorted(touched, blocks)
        local = which * bs + offsets
        # A block written from offset 0 starts afresh: leftovers of its previous owner must not
        # inflate its scale or shift its key offsets.
        fresh = torch.zeros(touched.numel(), dtype=torch.bool, device=touched.device)
        fresh[which[offsets == 0]] = True
        key_offset = torch.where(fresh[:, None, None], self._new_offsets(k, which, touched.numel()),
                                 self.k_offset[touched])
        parts = ((self.k, self.k_scale, k, key_offset), (self.v, self.v_scale, v, None))
        for data, scale, new, offset in parts:
            cur = dequantize(data[touched].transpose(1, 2), scale[touched], torch.float32).transpose(1, 2)
            cur[fresh] = 0.0  # residual 0: unwritten slots of a fresh block decode to its offset
            residual = new.float() if offset is None else new.float() - offset.float()[which]
            cur.reshape(-1, *cur.shape[2:]).index_copy_(0, local, residual)
            # Keep the old scale unless the block outgrew it: re-encoding with the same (or a
            # power-of-two larger) scale does not round the stored values again.
            scales = torch.maximum(block_scales(cur), torch.where(fresh[:, None], _MIN_SCALE, scale[touched]))
            data.view(torch.uint8).index_copy_(0, touched, quantize(cur, scales).view(torch.uint8))
            scale.index_copy_(0, touched, scales)
        self.k_offset.index_copy_(0, touched, key_offset)
        if self.summary is not None:
            self.summary.update(k, slot_mapping)

    @staticmethod
    def _new_offsets(k: torch.Tensor, which: torch.Tensor, n: int) -> torch.Tensor:
        """Per-channel midpoints [n, heads, d] of the new keys of each touched block."""
        flat = k.float().reshape(k.shape[0], -1)
        index = which[:, None].expand_as(flat)
        lo = flat.new_full((n, flat.shape[1]), float("inf")).scatter_reduce(0, index, flat, "amin")
        hi = flat.new_full((n, flat.shape[1]), float("-inf")).scatter_reduce(0, index, flat, "amax")
        mid = ((lo + hi) / 2).nan_to_num(0.0, posinf=0.0, neginf=0.0)  # blocks without new keys: unused
        return mid.view(n, *k.shape[1:]).to(OFFSET_DTYPE)

    def gather(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dequantized keys/values of ``block_ids`` [..., n]: [..., n * block_size, heads, d]."""
        out = []
        parts = ((self.k, self.k_scale, self.k_offset[block_ids]), (self.v, self.v_scale, None))
        for data, scale, offset in parts:
            q = data[block_ids].transpose(-3, -2)  # [..., n, heads, bs, d]
            x = dequantize(q, scale[block_ids], self.compute_dtype, offset).transpose(-3, -2)
            out.append(x.reshape(*block_ids.shape[:-1], -1, *x.shape[-2:]))
        return out[0], out[1]

    def gather_heads(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-head block choice [B, heads, K] -> dequantized keys, values [B, heads, K * bs, d]."""
        heads = head_index(block_ids.shape[1], block_ids.device)
        b, h, n = block_ids.shape
        out = []
        parts = ((self.k, self.k_scale, self.k_offset[block_ids, heads]), (self.v, self.v_scale, None))
        for data, scale, offset in parts:
            x = dequantize(data[block_ids, :, heads], scale[block_ids, heads], self.compute_dtype, offset)
            out.append(x.reshape(b, h, n * self.block_size, -1))
        return out[0], out[1]

    def read_blocks(self, block_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {"k": self.k[block_ids], "v": self.v[block_ids], "k_scale": self.k_scale[block_ids],
               "v_scale": self.v_scale[block_ids], "k_offset": self.k_offset[block_ids]}
        if self.summary is not None:
            out.update(self.summary.read(block_ids))
        return out

    def write_blocks(self, block_ids: torch.Tensor, data: dict[str, torch.Tensor]) -> None:
        dev = self.k.device
        ids = to_device(block_ids, dev)
        for name, dst in (("k", self.k), ("v", self.v)):
            dst.view(torch.uint8).index_copy_(0, ids, to_device(data[name], dev).view(torch.uint8))
        self.k_scale.index_copy_(0, ids, to_device(data["k_scale"], dev))
        self.v_scale.index_copy_(0, ids, to_device(data["v_scale"], dev))
        if "k_offset" in data:
            self.k_offset.index_copy_(0, ids, to_device(data["k_offset"], dev))
        else:  # saved before keys had offsets: those blocks decode as q * s alone
            self.k_offset.index_fill_(0, ids, 0.0)
        if self.summary is not None and "kmin" in data:
            self.summary.write(block_ids, data)
