"""Write several files as one step: either every file changes or none does.

New contents go to temp files beside their targets first (so nothing is half-written);
then each target is swapped in with ``os.replace`` after a hard-link backup of the old file.
Any failure puts every file back from its backup, removes created files and folders, and
raises ``ApplyError``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agent.edits.errors import ApplyError

_TEMP_SUFFIX = ".engram-tmp"
_BACKUP_SUFFIX = ".engram-bak"


@dataclass
class _Write:
    target: Path
    data: bytes | None
    """None deletes the file."""
    existed: bool
    temp: Path | None = None
    backup: Path | None = None
    swapped: bool = False


def write_files_atomically(writes: list[tuple[Path, bytes | None]]) -> None:
    """Give each path its new bytes (``None`` = delete), all or nothing."""
    plan = [_Write(target, data, os.path.lexists(target)) for target, data in writes]
    created_dirs: list[Path] = []
    try:
        for item in plan:
            if item.data is not None:
                created_dirs.extend(_make_parents(item.target.parent))
                item.temp = _write_temp(item.target, item.data, item.existed)
        for item in plan:
            if item.existed:
                item.backup = _backup(item.target)
            if item.data is None:
                os.unlink(item.target)
            else:
                assert item.temp is not None
                os.replace(item.temp, item.target)
                item.temp = None
            item.swapped = True
    except BaseException as exc:
        failures = _roll_back(plan, created_dirs)
        if failures:
            raise ApplyError(f"writing failed ({exc}) and rolling back also failed for: "
                             + "; ".join(failures)) from exc
        if isinstance(exc, OSError):
            where = exc.filename or ""
            raise ApplyError(f"writing {where or 'the files'} failed "
                             f"({exc.strerror or exc}); no file was changed") from exc
        raise
    for item in plan:
        if item.backup is not None:
            with contextlib.suppress(OSError):
                os.unlink(item.backup)


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return the ones created, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def _write_temp(target: Path, data: bytes, existed: bool) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=_TEMP_SUFFIX)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes 0600 files; keep the old file's mode, or the usual one for new files.
        mode = stat.S_IMODE(os.stat(target).st_mode) if existed else _new_file_mode()
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp


def _new_file_mode() -> int:
    """``0o666`` less the process umask (read without changing it where /proc allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _backup(target: Path) -> Path:
    """A second name for the current file (hard link; a copy where links are not allowed)."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                suffix=_BACKUP_SUFFIX)
    os.close(fd)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError:
        shutil.copy2(target, backup, follow_symlinks=False)
    return backup


def _roll_back(plan: list[_Write], created_dirs: list[Path]) -> list[str]:
    """Undo every swap; return the paths that could not be restored (normally none)."""
    failures = []
    for item in reversed(plan):
        try:
            if item.swapped and item.backup is not None:
                os.replace(item.backup, item.target)
                item.backup = None
            elif item.swapped:
                os.unlink(item.target)
        except OSError as exc:
            # Keep the backup: it is the only copy of the old file now.
            failures.append(f"{item.target} ({exc.strerror or exc}; old content kept in "
                            f"{item.backup})" if item.backup else f"{item.target} ({exc})")
            item.backup = None
        for leftover in (item.temp, item.backup):
            if leftover is not None:
                with contextlib.suppress(OSError):
                    leftover.unlink()
    for folder in reversed(created_dirs):
        with contextlib.suppress(OSError):
            folder.rmdir()
    return failures
