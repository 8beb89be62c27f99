"""Export and import as JSONL: one entry per line, readable by people and by ``jq``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from agent.memory.config import MemorySettings
from agent.memory.drafts import Draft, make_draft
from agent.memory.errors import MemoryInputError
from agent.memory.models import MemoryEntry
from runtime.atomic_write import atomic_open

FORMAT = "engram-memory/1"


def write_jsonl(entries: Iterable[MemoryEntry], path: Path) -> int:
    """Write entries to ``path`` atomically (a temp file renamed into place); returns the count."""
    path = Path(path)
    target_dir = path.parent if str(path.parent) else Path(".")
    if not target_dir.is_dir():
        raise MemoryInputError(f"cannot export to {path}: folder {target_dir} does not exist")
    count = 0
    with atomic_open(path, parents=False) as fh:
        for entry in entries:
            record = {"format": FORMAT, **entry.to_dict()}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: Path, settings: MemorySettings) -> Iterator[tuple[int, Draft | str]]:
    """``(line number, draft)`` for each good line, ``(line number, why)`` for each bad one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MemoryInputError(f"cannot import {path}: no such file") from None
    except IsADirectoryError:
        raise MemoryInputError(f"cannot import {path}: it is a folder") from None
    except OSError as exc:
        raise MemoryInputError(f"cannot import {path}: {exc.strerror}") from None
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield number, f"line {number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x}); skipped"
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"line {number}: not JSON ({exc.msg}); skipped"
            continue
        try:
            yield number, _draft(record, settings)
        except MemoryInputError as exc:
            yield number, f"line {number}: {exc}; skipped"


def _draft(record: Any, settings: MemorySettings) -> Draft:
    if not isinstance(record, dict):
        raise MemoryInputError("not a JSON object")
    if "text" not in record:
        raise MemoryInputError("no 'text'")
    extra: dict[str, Any] = {}
    for name in ("created_at", "updated_at", "last_used_at"):
        value = record.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            extra[name] = float(value)
    use_count = record.get("use_count", 0)
    extra["use_count"] = use_count if isinstance(use_count, int) and use_count >= 0 else 0
    return make_draft(record["text"], record.get("kind", "fact"),
                      record.get("sources") or record.get("source") or ["user"],
                      record.get("confidence", 1.0), record.get("pinned", False), settings,
                      **extra)
