"""``UndoStore``: snapshots of the project's files before each agent action, and restores.

Points form a chain (``refs/engram/points``, newest at the tip). ``undo_last`` restores the
tip and drops it, so repeated calls step back one action at a time. Before any restore
the files as they are are saved (``refs/engram/saved``), so an undo never loses work.
Only files git would see are covered: ``.gitignore``d files and ``.engram/`` are left alone.
Git stores content and the executable bit; any other permission bits are kept beside the
snapshot so a restore gives files back their exact modes.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.undo.models import (
    PathChange,
    RestoreResult,
    UndoError,
    UndoPoint,
    UndoPointNotFoundError,
)
from agent.undo.shadow_git import ShadowGit
from indexer.workspace import STATE_DIR_NAME, state_dir

POINTS_REF = "refs/engram/points"
SAVED_REF = "refs/engram/saved"
SHADOW_DIR_NAME = "undo.git"
_MIN_ID_PREFIX = 4
_SAVED_LOOKBACK = 200
_STATUS = {"A": "added", "D": "deleted", "M": "modified", "T": "modified"}


@dataclass(frozen=True)
class _Snapshot:
    commit: str
    tree: str
    label: str
    created_at: datetime
    modes: dict[str, int]
    parent: str | None

    def point(self, files_changed: tuple[str, ...] = ()) -> UndoPoint:
        return UndoPoint(id=self.commit[:12], label=self.label, created_at=self.created_at,
                         files_changed=files_changed)


class UndoStore:
    """Undo points of one project, kept in ``<root>/.engram/undo.git``."""

    def __init__(self, root: Path, git: ShadowGit) -> None:
        self.root = root
        self._git = git

    @classmethod
    def open(cls, root: Path | str) -> UndoStore:
        """The store of the project at ``root`` (created on first use; git repo or not)."""
        root = Path(root).resolve()
        if not root.is_dir():
            raise UndoError(f"not a folder: {root}")
        try:
            shadow = state_dir(root) / SHADOW_DIR_NAME
        except OSError as exc:
            raise UndoError(f"cannot create {root}/.engram: {exc.strerror or exc}") from exc
        git = ShadowGit(root, shadow)
        store = cls(root, git)
        with store._locked():
            git.ensure()
        return store

    @staticmethod
    def exists(root: Path | str) -> bool:
        """Whether the project at ``root`` has an undo store yet (creates nothing)."""
        return (Path(root).resolve() / STATE_DIR_NAME / SHADOW_DIR_NAME / "HEAD").is_file()

    # -- public operations -------------------------------------------------------------

    def snapshot(self, label: str, *, include: Sequence[str] = ()) -> UndoPoint:
        """Record the files as they are now; returns the point to restore them.

        ``include`` names files to record even when ``.gitignore`` matches them (files an
        edit is about to change). When nothing changed since the newest point, that point
        is returned instead of a duplicate.
        """
        with self._locked():
            tree, modes = self._stage(include)
            tip = self._read(POINTS_REF)
            if tip is not None and tip.tree == tree and tip.modes == modes:
                return tip.point()
            snap = self._commit(tree, modes, _one_line(label), tip.commit if tip else None,
                                kind="point")
            self._git.run("update-ref", POINTS_REF, snap.commit, tip.commit if tip else "")
            return snap.point()

    def list(self) -> builtins.list[UndoPoint]:
        """Points, newest first, each with the files restoring it would change."""
        with self._locked():
            chain = self._chain()
            if not chain:
                return []
            after_tree, after_modes = self._stage(())
            points = []
            for snap in chain:
                points.append(snap.point(self._changed_paths(snap, after_tree, after_modes)))
                after_tree, after_modes = snap.tree, snap.modes
            return points

    def get(self, point_id: str) -> UndoPoint:
        """The point (or saved state) whose id starts with ``point_id``."""
        with self._locked():
            snap, _ = self._find(point_id)
            return snap.point()

    def restore(self, point: UndoPoint | str) -> RestoreResult:
        """Put every non-ignored file back as it was at ``point``.

        Files created since are deleted, deleted ones re-created, edited ones rewritten, modes
        reset. The point and every newer one leave the chain (a saved state's id may be
        given too; then the chain stays). The files as they were before are saved first.
        """
        point_id = point.id if isinstance(point, UndoPoint) else point
        with self._locked():
            snap, in_chain = self._find(point_id)
            return self._restore(snap, in_chain)

    def undo_last(self) -> RestoreResult | None:
        """Restore the newest point that differs from the files now, and drop it (and any
        newer points that match the files, e.g. taken before a command that changed
        nothing). None when there is nothing to undo."""
        with self._locked():
            tree, modes = self._stage(())
            tip = self._read(POINTS_REF)
            while tip is not None and tip.tree == tree and tip.modes == modes:
                self._drop_through(tip)
                tip = self._read(tip.parent) if tip.parent else None
            return None if tip is None else self._restore(tip, True)

    # -- internals ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time per project: the shadow index is shared state."""
        lock_path = self._git.shadow_dir.parent / "undo.lock"
        with open(lock_path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _stage(self, include: Sequence[str]) -> tuple[str, dict[str, int]]:
        """Stage the work tree into the shadow index; return its tree id and unusual modes."""
        self._git.ensure()
        self._git.run("add", "-A", "--ignore-errors", ok_codes=(0, 1))
        present = [p for p in include if os.path.lexists(self.root / p)]
        if present:
            self._git.run("add", "-f", "--ignore-errors", "--pathspec-from-file=-",
                          "--pathspec-file-nul", stdin=_nul_join(present), ok_codes=(0, 1))
        tree = self._git.run("write-tree").strip()
        return tree, self._unusual_modes()

    def _unusual_modes(self) -> dict[str, int]:
        """Permission bits git cannot store: files whose mode is not 0644/0755."""
        modes = {}
        for record in self._git.run("ls-files", "-s", "-z").split("\0"):
            if not record:
                continue
            meta, path = record.split("\t", 1)
            git_mode = meta.split(" ", 1)[0]
            if git_mode not in ("100644", "100755"):
                continue
            try:
                st = os.lstat(self.root / path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != _git_default(git_mode):
                modes[path] = stat.S_IMODE(st.st_mode)
        return modes

    def _commit(self, tree: str, modes: dict[str, int], label: str, parent: str | None,
                *, kind: str) -> _Snapshot:
        created = datetime.now(UTC).replace(microsecond=0)
        meta = {"kind": kind, "label": label, "created_at": created.isoformat(), "modes": modes}
        message = f"{label}\n\n{json.dumps(meta, sort_keys=True)}\n"
        args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
        commit = self._git.run(*args, stdin=message.encode("utf-8", "surrogateescape")).strip()
        return _Snapshot(commit, tree, label, created, modes, parent)

    def _read(self, rev: str) -> _Snapshot | None:
        out = self._git.run("log", "-1", "--format=%H%x1f%T%x1f%P%x1f%B", rev, "--",
                            ok_codes=(0, 128)) if self._has(rev) else ""
        return _parse_snapshot(out) if out.strip() else None

    def _has(self, ref: str) -> bool:
        return bool(self._git.run("rev-parse", "-q", "--verify", ref + "^{commit}",
                                  ok_codes=(0, 1)).strip())

    def _chain(self, ref: str = POINTS_REF, limit: int | None = None) -> builtins.list[_Snapshot]:
        if not self._has(ref):
            return []
        args = ["log", "-z", "--first-parent", "--format=%H%x1f%T%x1f%P%x1f%B"]
        if limit is not None:
            args.append(f"-{limit}")
        out = self._git.run(*args, ref, "--")
        return [_parse_snapshot(rec) for rec in out.split("\0") if rec.strip()]

    def _find(self, point_id: str) -> tuple[_Snapshot, bool]:
        wanted = point_id.strip().lower()
        if len(wanted) < _MIN_ID_PREFIX or any(c not in "0123456789abcdef" for c in wanted):
            raise UndoPointNotFoundError(f"no undo point {point_id!r} (ids are hex, as listed "
                                         "by `engram undo --list`)")
        for ref, in_chain, limit in ((POINTS_REF, True, None), (SAVED_REF, False, _SAVED_LOOKBACK)):
            found = [s for s in self._chain(ref, limit) if s.commit.startswith(wanted)]
            if len(found) > 1:
                raise UndoPointNotFoundError(f"undo point id {point_id!r} is ambiguous; "
                                             "give more characters")
            if found:
                return found[0], in_chain
        raise UndoPointNotFoundError(f"no undo point {point_id!r}; `engram undo --list` "
                                     "shows the points")

    def _restore(self, snap: _Snapshot, in_chain: bool) -> RestoreResult:
        current_tree, current_modes = self._stage(())
        changes = self._diff(current_tree, current_modes, snap)
        saved_tip = self._read(SAVED_REF)
        saved = self._commit(current_tree, current_modes, f"files before restoring {snap.commit[:12]}",
                             saved_tip.commit if saved_tip else None, kind="saved")
        self._git.run("update-ref", SAVED_REF, saved.commit)
        if changes:
            self._git.run("read-tree", "--reset", "-u", snap.tree)
            self._restore_modes(snap, current_modes, [c.path for c in changes])
        if in_chain:
            self._drop_through(snap)
        return RestoreResult(point=snap.point(tuple(c.path for c in changes)), changes=changes,
                             saved_state=saved.commit[:12])

    def _drop_through(self, snap: _Snapshot) -> None:
        """Make ``snap``'s parent the newest point (``snap`` and newer leave the chain)."""
        if snap.parent:
            self._git.run("update-ref", POINTS_REF, snap.parent)
        else:
            self._git.run("update-ref", "-d", POINTS_REF)

    def _restore_modes(self, snap: _Snapshot, current_modes: dict[str, int],
                       changed: builtins.list[str]) -> None:
        tree_modes = self._tree_modes(snap.tree)
        for path in {*snap.modes, *current_modes, *changed}:
            git_mode = tree_modes.get(path)
            if git_mode not in ("100644", "100755"):
                continue
            full = self.root / path
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(full).st_mode):
                    os.chmod(full, snap.modes.get(path, _git_default(git_mode)))

    def _tree_modes(self, tree: str) -> dict[str, str]:
        modes = {}
        for record in self._git.run("ls-tree", "-r", "-z", tree).split("\0"):
            if record:
                meta, path = record.split("\t", 1)
                modes[path] = meta.split(" ", 1)[0]
        return modes

    def _diff(self, current_tree: str, current_modes: dict[str, int],
              target: _Snapshot) -> builtins.list[PathChange]:
        """What restoring ``target`` over the current files changes, path by path."""
        status_out = self._git.run("diff-tree", "-r", "--no-renames", "--name-status", "-z",
                                   current_tree, target.tree)
        fields = [f for f in status_out.split("\0") if f]
        statuses = dict(zip(fields[1::2], fields[0::2]))
        counts: dict[str, tuple[int | None, int | None]] = {}
        numstat = self._git.run("diff-tree", "-r", "--no-renames", "--numstat", "-z",
                                current_tree, target.tree)
        for record in numstat.split("\0"):
            parts = record.split("\t", 2)
            if len(parts) == 3:
                plus, minus, path = parts
                counts[path] = (None if plus == "-" else int(plus),
                                None if minus == "-" else int(minus))
        changes: builtins.list[PathChange] = []
        for path, code in sorted(statuses.items()):
            added, removed = counts.get(path, (None, None))
            status = _STATUS.get(code[:1], "modified")
            if status == "modified" and added == 0 and removed == 0:
                status = "mode"  # same bytes, only the executable bit differs
            changes.append(PathChange(path, status, added, removed))  # type: ignore[arg-type]
        touched = set(statuses)
        target_paths = self._tree_modes(target.tree) if target.modes or current_modes else {}
        for path in sorted({*target.modes, *current_modes} - touched):
            if path in target_paths and target.modes.get(path) != current_modes.get(path):
                changes.append(PathChange(path, "mode", 0, 0))
        return changes

    def _changed_paths(self, snap: _Snapshot, after_tree: str,
                       after_modes: dict[str, int]) -> tuple[str, ...]:
        return tuple(c.path for c in self._diff(after_tree, after_modes, snap))


def _git_default(git_mode: str) -> int:
    return 0o755 if git_mode == "100755" else 0o644


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200] or "snapshot"


def _nul_join(paths: Sequence[str]) -> bytes:
    return b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)


def _parse_snapshot(record: str) -> _Snapshot:
    commit, tree, parents, body = record.lstrip("\n").split("\x1f", 3)
    label, _, meta_text = body.partition("\n\n")
    try:
        meta = json.loads(meta_text)
        created = datetime.fromisoformat(meta["created_at"])
        modes = {str(k): int(v) for k, v in meta.get("modes", {}).items()}
        label = str(meta.get("label", label))
    except (ValueError, KeyError, TypeError):
        raise UndoError(f"undo point {commit[:12]} is damaged; remove .engram/undo.git "
                        "to start over") from None
    parent = parents.split()[0] if parents.split() else None
    return _Snapshot(commit, tree, label, created, modes, parent)
