"""The tables' file beside the database: one header and aligned arrays, memory-mapped on load.

Layout: 8-byte magic, 8-byte little-endian header length, a JSON header naming each
array's dtype, shape and offset, then the arrays at 64-byte boundaries. A new file is
written to a temporary name, fsynced and renamed over the old one, so readers see a whole
old file or a whole new one; processes that mapped the old file keep reading it safely.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from pathlib import Path

import numpy as np

from agent.memory.hashing import HeadLayout
from agent.memory.tables import HeadTables
from runtime.atomic_write import atomic_open

MAGIC = b"ENGRAMT1"
_ALIGN = 64
_ARRAYS = ("offsets", "postings", "row_ids", "row_len", "row_weight", "seeds", "primes", "bases")


def _arrays(t: HeadTables) -> dict[str, np.ndarray]:
    return {
        "offsets": t.offsets, "postings": t.postings, "row_ids": t.row_ids,
        "row_len": t.row_len, "row_weight": t.row_weight, "seeds": t.layout.seeds,
        "primes": t.layout.primes, "bases": t.layout.bases,
    }


def read_generation(path: Path) -> int | None:
    """The generation recorded in a tables file, or None if it is missing or unreadable."""
    header = _read_header(path)
    return None if header is None else int(header[0]["generation"])


def save_tables(tables: HeadTables, path: Path) -> None:
    """Write ``tables`` atomically, unless the file already holds a newer generation."""
    current = read_generation(path)
    if current is not None and current > tables.generation:
        return
    arrays = {k: np.ascontiguousarray(v) for k, v in _arrays(tables).items()}
    specs: dict[str, dict[str, object]] = {}
    header = {"generation": tables.generation, "db_id": tables.db_id,
              "fingerprint": tables.fingerprint, "arrays": specs}
    # Offsets depend on the header's length, which depends on the offsets: reserve room.
    pos = 0
    for name, arr in arrays.items():
        specs[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": pos}
        pos += (arr.nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
    probe = json.dumps(header).encode()
    data_start = (16 + len(probe) + 256 + _ALIGN - 1) // _ALIGN * _ALIGN
    for spec in specs.values():
        spec["offset"] = int(spec["offset"]) + data_start  # type: ignore[call-overload]
    blob = json.dumps(header).encode()
    with atomic_open(path, binary=True) as fh:
        fh.write(MAGIC + struct.pack("<Q", len(blob)) + blob)
        for name, arr in arrays.items():
            fh.seek(int(specs[name]["offset"]))  # type: ignore[call-overload]
            fh.write(arr.tobytes())


def load_tables(path: Path) -> HeadTables | None:
    """Map a tables file; None if it is missing, truncated or not ours (it is then rebuilt)."""
    got = _read_header(path)
    if got is None:
        return None
    header, size = got
    try:
        with open(path, "rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        arrays: dict[str, np.ndarray] = {}
        for name in _ARRAYS:
            spec = header["arrays"][name]
            dtype = np.dtype(spec["dtype"])
            shape = tuple(int(s) for s in spec["shape"])
            count = int(np.prod(shape)) if shape else 1
            offset = int(spec["offset"])
            if offset + count * dtype.itemsize > size:
                return None
            arrays[name] = np.frombuffer(mm, dtype=dtype, count=count, offset=offset).reshape(shape)
        layout = HeadLayout(seeds=arrays["seeds"], primes=arrays["primes"], bases=arrays["bases"])
        if arrays["offsets"].size != layout.n_buckets + 1:
            return None
        return HeadTables(
            layout=layout, offsets=arrays["offsets"], postings=arrays["postings"],
            row_ids=arrays["row_ids"], row_len=arrays["row_len"],
            row_weight=arrays["row_weight"], generation=int(header["generation"]),
            db_id=str(header["db_id"]), fingerprint=str(header["fingerprint"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_header(path: Path) -> tuple[dict, int] | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            if len(head) < 16 or head[:8] != MAGIC:
                return None
            (length,) = struct.unpack("<Q", head[8:])
            if length > 1 << 20:
                return None
            header = json.loads(fh.read(length))
            size = os.fstat(fh.fileno()).st_size
        return (header, size) if isinstance(header, dict) else None
    except (OSError, ValueError):
        return None
