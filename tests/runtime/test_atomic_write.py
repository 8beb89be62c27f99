"""The one whole-file writer: the new content or the old, never half of either."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime.atomic_write import atomic_open, write_text_atomic


def test_replaces_the_file_and_keeps_its_mode_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "run.sh"
    target.write_text("old\n")
    os.chmod(target, 0o755)
    write_text_atomic(target, "new\r\n", newline="", keep_mode=True)
    assert target.read_bytes() == b"new\r\n"
    assert target.stat().st_mode & 0o777 == 0o755
    assert [p.name for p in tmp_path.iterdir()] == ["run.sh"]


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_open(target, binary=True, suffix=".engram-tmp") as fh:
            fh.write(b"half of the new")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_missing_folders_are_made_unless_told_not_to(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "a" / "b" / "c.txt", "x")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "x"
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "nope" / "d.txt", "x", parents=False)
    assert not (tmp_path / "nope").exists()
