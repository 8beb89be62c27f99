"""Whole-file writes that never leave half a file: a temporary file beside the target, flushed
to disk, then renamed over it. The one implementation every layer above uses (the runtime
imports nothing of ours, so it lives at the bottom)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(path: Path | str, *, binary: bool = False, newline: str | None = None,
                keep_mode: bool = False, parents: bool = True,
                suffix: str = ".tmp") -> Iterator[IO[Any]]:
    """A file to write ``path``'s new content into. It replaces ``path`` when the block ends
    without an error; on any error it is removed and ``path`` is left as it was.

    ``keep_mode`` gives the new file the old one's permissions (``mkstemp`` makes 0600 files);
    ``parents`` creates missing folders (otherwise a missing folder is an ``OSError``);
    ``suffix`` names the temporary file, so a clean-up after a crash can find leftovers.
    """
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if parents:
        folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=suffix)
    try:
        mode = "wb" if binary else "w"
        encoding = None if binary else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline=None if binary else newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if keep_mode and target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path | str, text: str, *, newline: str | None = None,
                      keep_mode: bool = False, parents: bool = True, suffix: str = ".tmp") -> None:
    """Replace ``path``'s content with ``text`` (UTF-8) in one step (see ``atomic_open``)."""
    with atomic_open(path, newline=newline, keep_mode=keep_mode, parents=parents,
                     suffix=suffix) as fh:
        fh.write(text)
