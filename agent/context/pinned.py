"""Files the user pinned: shown to the model in full in every prompt of a task.

``check_pins`` runs once when the task gathers its context: it keeps the paths that name a
readable text file inside the repository and explains every other one. ``read_pinned`` reads
the kept files at each model call, so the model sees them as they are after its own edits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.edits.errors import PathOutsideRepoError, PathRefusedError, SecretFileError
from agent.edits.paths import PathGuard

_BINARY_SNIFF = 8192


@dataclass
class PinCheck:
    pinned: list[str] = field(default_factory=list)
    """Repository-relative paths that are pinned, in the order given, without duplicates."""
    warnings: list[str] = field(default_factory=list)
    """One line per path left out, naming it and the reason."""


@dataclass(frozen=True)
class PinnedFile:
    path: str
    text: str


def _read(guard: PathGuard, path: str) -> tuple[str, str]:
    """``(rel, text)`` of one pinned path, or ``ValueError`` saying why it cannot be pinned."""
    try:
        target = guard.check(path)
    except SecretFileError:
        raise ValueError("a secret file; it is never shown to the model") from None
    except PathOutsideRepoError:
        raise ValueError("outside the repository") from None
    except PathRefusedError as exc:
        raise ValueError(str(exc).removeprefix(f"{exc.path}: ")) from None
    if not target.real.exists():
        raise ValueError("no such file")
    if not target.real.is_file():
        raise ValueError("not a regular file")
    try:
        data = target.real.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror or exc})") from None
    if b"\0" in data[:_BINARY_SNIFF]:
        raise ValueError("a binary file")
    try:
        return target.rel, data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None


def check_pins(root: Path, paths: Sequence[str], secret_patterns: Sequence[str] = (), *,
               max_chars: int | None = None) -> PinCheck:
    """Which of ``paths`` (repository-relative, or absolute inside ``root``) can be pinned.

    A path outside the repository, inside ``.git``/``.engram``, naming a secret file, a
    folder, a missing, binary or non-UTF-8 file, or (with ``max_chars``) a file longer than
    that, is left out with a warning."""
    guard = PathGuard(root, secret_patterns)
    out = PinCheck()
    for path in paths:
        try:
            rel, text = _read(guard, str(path))
        except ValueError as exc:
            out.warnings.append(f"not pinned: {path}: {exc}")
            continue
        if max_chars is not None and len(text) > max_chars:
            out.warnings.append(f"not pinned: {path}: too large to show in every prompt "
                                f"({len(text):,} characters; at most {max_chars:,})")
            continue
        if rel not in out.pinned:
            out.pinned.append(rel)
    return out


def read_pinned(root: Path, paths: Sequence[str], secret_patterns: Sequence[str] = ()) -> list[PinnedFile]:
    """The current text of each pinned path; one that can no longer be read says why."""
    if not paths:
        return []
    guard = PathGuard(root, secret_patterns)
    out = []
    for path in paths:
        try:
            rel, text = _read(guard, path)
        except ValueError as exc:
            out.append(PinnedFile(path, f"(pinned, but unreadable now: {exc})"))
            continue
        out.append(PinnedFile(rel, text))
    return out
