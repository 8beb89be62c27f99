"""FP8 (e4m3) KV storage with one scale per block and KV head.

A block's scale is ``amax / 448`` over its tokens and channels for that head, so every stored
value uses the full e4m3 range. Tokens arrive one at a time during decode; when a new token
raises a block's amax, the block is dequantized and re-encoded with the larger scale.

Error bound (per element, ``s`` the block/head scale): a single encode rounds to 3 mantissa
bits, ``|x - deq(q(x))| <= |x| / 16 + s / 1024`` (the second term covers e4m3 subnormals);
a re-encode after the scale grew rounds twice, so at most twice that. ``FP8_ERROR_BOUND``
states it and the tests check it.

The CPU path below is plain torch; on CUDA, :mod:`fp8_attention_triton` reads these blocks and
dequantizes inside the attention kernel instead of materializing higher-precision copies.
"""

from __future__ import annotations

import torch

from runtime.engine.block_summary import BlockSummary
from runtime.engine.kv_cache import head_index, to_device

FP8_DTYPE = torch.float8_e4m3fn
FP8_MAX = 448.0
_MIN_SCALE = 1e-12


def fp8_error_bound(x: torch.Tensor, scale: torch.Tensor, reencoded: bool = False) -> torch.Tensor:
    """Largest round-trip error allowed for values ``x`` stored with ``scale`` (broadcastable)."""
    bound = x.abs() / 16 + scale / 1024
    return 2 * bound if reencoded else bound


def block_scales(x: torch.Tensor) -> torch.Tensor:
    """Scales [n, heads] for blocks ``x`` [n, block_size, heads, d]."""
    amax = x.float().abs().amax(dim=(1, 3))
    return (amax / FP8_MAX).clamp(min=_MIN_SCALE)


def quantize(x: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Encode blocks ``x`` [n, bs, heads, d] with ``scales`` [n, heads] as e4m3."""
    scaled = x.float() / scales[:, None, :, None]
    return scaled.clamp(-FP8_MAX, FP8_MAX).to(FP8_DTYPE)


def dequantize(q: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Decode ``q`` [..., bs, d] given ``scales`` [...] (one per leading index) into ``dtype``."""
    return (q.float() * scales[..., None, None]).to(dtype)


class Fp8LayerKV:
    """One layer's K/V as e4m3 blocks with per-block, per-head float32 scales."""

    def __init__(self, num_blocks: int, block_size: int, num_kv_heads: int, head_dim: int,
                 compute_dtype: torch.dtype, device: torch.device, summary: bool = False,
                 storage: dict[str, torch.Tensor] | None = None) -> None:
        shape = (num_blocks, block_size, num_kv_heads, head_dim)
        if storage is None:
            storage = {
                "k": torch.zeros(shape, dtype=FP8_DTYPE, device=device),
                "v": torch.zeros(shape, dtype=FP8_DTYPE, device=device),
                "k_scale": torch.full((num_blocks, num_kv_heads), _MIN_SCALE, device=device),
                "v_scale": torch.full((num_blocks, num_kv_heads), _MIN_SCALE, device=device),
            }
        self.k, self.v = storage["k"], storage["v"]
        self.k_scale, self.v_scale = storage["k_scale"], storage["v_scale"]
        self.block_size, self.num_blocks, self.compute_dtype = block_size, num_blocks, compute_dtype
        self.summary = (BlockSummary(num_blocks, block_size, num_kv_heads, head_dim, compute_dtype, device)
                        if summary else None)

    @staticmethod
    def bytes_per_block(num_layers: int, block_size: int, num_kv_heads: int, head_dim: int) -> int:
        """One block across all layers: K and V bytes plus their scales."""
        return 2 * num_layers * (block_size * num_kv_heads * head_dim + 4 * num_kv_heads)

    def write(self, k: torch.Tensor, v: torch.Tensor, slot_mapping: torch.Tensor) -> None:
        """Store keys/values [T, heads, d] at flat slots [T], re-encoding every block they touch."""
        bs = self.block_size
        blocks = torch.div(slot_mapping, bs, rounding_mode="floor")
        offsets = slot_mapping % bs
        touched = torch.unique(blocks)
        local = torch.searchsorted(touched, blocks) * bs + offsets
        # A block written from offset 0 starts afresh: leftovers of its previous owner must not
        # inflate its scale.
        fresh = torch.zeros(touched.numel(), dtype=torch.bool, device=touched.device)
        fresh[torch.searchsorted(touched, blocks[offsets == 0])] = True
        for data, scale, new in ((self.k, self.k_scale, k), (self.v, self.v_scale, v)):
            cur = dequantize(data[touched].transpose(1, 2), scale[touched], torch.float32).transpose(1, 2)
            cur[fresh] = 0.0
            flat = cur.reshape(-1, *cur.shape[2:])
            flat.index_copy_(0, local, new.float())
            scales = block_scales(cur)
            data.view(torch.uint8).index_copy_(0, touched, quantize(cur, scales).view(torch.uint8))
            scale.index_copy_(0, touched, scales)
        if self.summary is not None:
            self.summary.update(k, slot_mapping)

    def gather(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dequantized keys/values of ``block_ids`` [..., n]: [..., n * block_size, heads, d]."""
        out = []
        for data, scale in ((self.k, self.k_scale), (self.v, self.v_scale)):
            q = data[block_ids].transpose(-3, -2)  # [..., n, heads, bs, d]
            x = dequantize(q, scale[block_ids], self.compute_dtype).transpose(-3, -2)
            out.append(x.reshape(*block_ids.shape[:-1], -1, *x.shape[-2:]))
        return out[0], out[1]

    def gather_heads(self, block_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-head block choice [B, heads, K] -> dequantized keys, values [B, heads, K * bs, d]."""
        heads = head_index(block_ids.shape[1], block_ids.device)
        b, h, n = block_ids.shape
        out = []
        for data, scale in ((self.k, self.k_scale), (self.v, self.v_scale)):
            x = dequantize(data[block_ids, :, heads], scale[block_ids, heads], self.compute_dtype)
            out.append(x.reshape(b, h, n * self.block_size, -1))
        return out[0], out[1]

    def read_blocks(self, block_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {"k": self.k[block_ids], "v": self.v[block_ids],
               "k_scale": self.k_scale[block_ids], "v_scale": self.v_scale[block_ids]}
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
        if self.summary is not None and "kmin" in data:
            self.summary.write(block_ids, data)
