"""Run-directory files: JSON written atomically, JSONL appended one record at a time.

An interrupted run may leave a half-written last JSONL line; readers skip it, so the record
is simply redone on resume and nothing already finished is lost.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from evals.errors import EvalError
from runtime.atomic_write import write_text_atomic


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as pretty JSON via a temp file and ``os.replace`` (never half a file)."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    """Parse a JSON file; ``EvalError`` naming the file when it is missing or broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"{path} is not valid JSON: {exc}") from None


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file written by ``JsonlWriter``; a torn last line is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the torn tail of an interrupted append: redone on resume
            if isinstance(record, dict):
                yield record


class JsonlWriter:
    """Appends records to a JSONL file, one flushed line each, safely from many threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._repair_tail()

    def _repair_tail(self) -> None:
        # A crash mid-append leaves a line without its newline; start the next record on a
        # fresh line so the torn one stays isolated (and skipped by read_jsonl).
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                last = fh.read(1)
            if last != b"\n":
                with self.path.open("ab") as fh:
                    fh.write(b"\n")

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def write_all(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.write(record)


def ensure_run_dir(path: Path) -> Path:
    """Create the run directory (and parents); ``EvalError`` when it cannot be a folder."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise EvalError(f"run directory {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EvalError(f"cannot create run directory {path}: {exc.strerror}") from None
    return path.resolve()
