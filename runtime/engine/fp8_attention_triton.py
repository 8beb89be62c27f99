"""Fused decode attention over selected FP8 blocks: dequantization happens inside the kernel.

One program per (sequence, query head) walks that head's KV group's selected blocks, loads
e4m3 keys/values with their block/head scale (keys plus their per-channel block offset, see
:mod:`kv_fp8`), and keeps an online softmax, so no
higher-precision copy of the KV is ever written to memory. Used on CUDA when Triton is
importable; everywhere else :func:`runtime.engine.sparse_attention.sparse_decode` takes the
torch path (gather + dequantize + SDPA), which the tests check against dense attention.
"""

from __future__ import annotations

import torch

try:  # Triton ships with CUDA builds of torch; CPU installs run without it.
    import triton
    import triton.language as tl

    AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the install
    triton = None
    tl = None
    AVAILABLE = False


def usable(q: torch.Tensor) -> bool:
    """Whether the fused kernel can run for queries ``q`` (CUDA tensors and Triton present)."""
    return AVAILABLE and q.is_cuda


if AVAILABLE:

    @triton.jit
    def _fp8_decode_kernel(
        Q, K, V, KS, VS, KO, IDS, LIDX, LENS, OUT, scale, n_sel,
        s_qb, s_qh, s_kn, s_kt, s_kh, s_sn, s_fn, s_fh, s_ib, s_ih, s_ob, s_oh,
        GROUP: tl.constexpr, BS: tl.constexpr, D: tl.constexpr,
    ):
        b = tl.program_id(0)
        h = tl.program_id(1)
        g = h // GROUP
        offs_d = tl.arange(0, D)
        offs_t = tl.arange(0, BS)
        q = tl.load(Q + b * s_qb + h * s_qh + offs_d).to(tl.float32)
        ctx = tl.load(LENS + b)
        m_i = -1.0e30
        l_i = 0.0
        acc = tl.zeros([D], dtype=tl.float32)
        for j in range(n_sel):
            blk = tl.load(IDS + b * s_ib + g * s_ih + j)
            lidx = tl.load(LIDX + b * s_ib + g * s_ih + j)
            safe = tl.maximum(blk, 0)  # invalid picks (-1) read block 0 and are masked out below
            base = safe * s_kn + g * s_kh
            ptrs = base + offs_t[:, None] * s_kt + offs_d[None, :]
            k_off = tl.load(KO + safe * s_fn + g * s_fh + offs_d).to(tl.float32)
            k = tl.load(K + ptrs).to(tl.float32) * tl.load(KS + safe * s_sn + g) + k_off[None, :]
            s = tl.sum(k * q[None, :], axis=1) * scale
            pos = lidx * BS + offs_t
            s = tl.where((pos < ctx) & (blk >= 0), s, -1.0e30)
            m_new = tl.maximum(m_i, tl.max(s, axis=0))
            p = tl.exp(s - m_new)
            p = tl.where((pos < ctx) & (blk >= 0), p, 0.0)
            alpha = tl.exp(m_i - m_new)
            v = tl.load(V + ptrs).to(tl.float32) * tl.load(VS + safe * s_sn + g)
            acc = acc * alpha + tl.sum(p[:, None] * v, axis=0)
            l_i = l_i * alpha + tl.sum(p, axis=0)
            m_i = m_new
        out = acc / tl.maximum(l_i, 1.0e-30)
        tl.store(OUT + b * s_ob + h * s_oh + offs_d, out.to(OUT.dtype.element_ty))


def fp8_sparse_decode(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_scale: torch.Tensor,
                      v_scale: torch.Tensor, k_offset: torch.Tensor, block_ids: torch.Tensor, table_idx: torch.Tensor,
                      valid: torch.Tensor, context_lens: torch.Tensor, scale: float) -> torch.Tensor:
    """Attention of ``q`` [B, H, d] over FP8 blocks ``block_ids`` [B, kvh, K] (storage ids).

    ``table_idx`` [B, kvh, K]: each pick's position in its sequence's block table (for the
    length mask); ``valid`` marks real picks. ``k``/``v`` [N, bs, kvh, d] e4m3, scales [N, kvh],
    ``k_offset`` [N, kvh, d] (added to every dequantized key of the block).
    """
    if not AVAILABLE:
        raise RuntimeError("Triton is not available")
    b, heads, d = q.shape
    kvh, n_sel = block_ids.shape[1], block_ids.shape[2]
    ids = torch.where(valid, block_ids, torch.full_like(block_ids, -1)).to(torch.int64).contiguous()
    lidx = table_idx.to(torch.int64).contiguous()
    out = torch.empty_like(q)
    q = q.contiguous()
    if k.stride(3) != 1 or k_offset.stride(2) != 1 or v.stride() != k.stride() or v_scale.stride() != k_scale.stride():
        raise ValueError("FP8 KV storage must be contiguous in the head dimension with matching K/V layouts")
    _fp8_decode_kernel[(b, heads)](
        q, k, v, k_scale, v_scale, k_offset, ids, lidx, context_lens.to(torch.int64).contiguous(), out, scale, n_sel,
        q.stride(0), q.stride(1), k.stride(0), k.stride(1), k.stride(2), k_scale.stride(0),
        k_offset.stride(0), k_offset.stride(1),
        ids.stride(0), ids.stride(1), out.stride(0), out.stride(1),
        GROUP=heads // kvh, BS=k.shape[1], D=d,
    )
    return out
