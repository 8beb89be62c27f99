"""Per-run cgroups for the limits rlimits cannot enforce: processes (RLIMIT_NPROC counts
per user and root ignores it) and real memory use.

The probe looks for a hierarchy where this process may create child cgroups below its own
(cgroup v2 with the pids/memory controllers delegated, or the cgroup v1 ``pids``
hierarchy). Each run gets a child cgroup that the launcher joins before it execs the
command, so every descendant is counted and can be killed, whatever namespace it is in.
Memory uses cgroup v2 only; v1 memory accounting is left alone (RLIMIT_AS covers it).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from runtime.sandbox.limits import Limits

CGROUP_ROOT = Path("/sys/fs/cgroup")
_RUN_PREFIX = "engram-"
_STALE_AFTER_S = 3600.0


@dataclass(frozen=True)
class CgroupSupport:
    """Where run cgroups can be created (``None``: that controller is not available)."""

    pids_parent: Path | None = None
    memory_parent: Path | None = None

    @property
    def any(self) -> bool:
        return self.pids_parent is not None or self.memory_parent is not None

    def describe(self) -> str:
        """For messages and the report: which limits have a cgroup behind them."""
        parts = []
        if self.pids_parent is not None:
            parts.append(f"pids cgroup under {self.pids_parent}")
        if self.memory_parent is not None:
            parts.append(f"memory cgroup under {self.memory_parent}")
        return ", ".join(parts) or "no writable cgroup"


def probe(root: Path = CGROUP_ROOT, proc_self_cgroup: Path = Path("/proc/self/cgroup")) -> CgroupSupport:
    """Find writable parents for pids and memory cgroups; never raises."""
    try:
        lines = proc_self_cgroup.read_text().splitlines()
    except OSError:
        return CgroupSupport()
    v2_path: str | None = None
    v1_pids_path: str | None = None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hier, controllers, path = parts
        if hier == "0" and controllers == "":
            v2_path = path
        elif "pids" in controllers.split(","):
            v1_pids_path = path
    pids_parent = memory_parent = None
    if v2_path is not None:
        for mount in (root, root / "unified"):
            if (mount / "cgroup.controllers").is_file():
                parent = mount / v2_path.lstrip("/")
                usable = _probe_v2(parent)
                if "pids" in usable:
                    pids_parent = parent
                if "memory" in usable:
                    memory_parent = parent
                break
    if pids_parent is None and v1_pids_path is not None:
        parent = root / "pids" / v1_pids_path.lstrip("/")
        if _probe_child(parent, "pids.max"):
            pids_parent = parent
    return CgroupSupport(pids_parent=pids_parent, memory_parent=memory_parent)


def _probe_v2(parent: Path) -> set[str]:
    # only controllers already delegated to our cgroup: enabling them here would change
    # the cgroup of whoever runs us (and fails with EBUSY where it holds processes)
    try:
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
    except OSError:
        return set()
    return {ctl for ctl in ("pids", "memory")
            if ctl in enabled and _probe_child(parent, f"{ctl}.max")}


def _probe_child(parent: Path, needed_file: str) -> bool:
    _remove_stale(parent)
    child = parent / f"{_RUN_PREFIX}probe-{uuid.uuid4().hex[:8]}"
    try:
        child.mkdir()
    except OSError:
        return False
    try:
        return (child / needed_file).exists() and os.access(child / "cgroup.procs", os.W_OK)
    finally:
        _rmdir(child)


def _remove_stale(parent: Path) -> None:
    # run cgroups left by a crashed process; empty ones only (rmdir refuses the others)
    try:
        entries = [p for p in parent.iterdir() if p.name.startswith(_RUN_PREFIX)]
    except OSError:
        return
    now = time.time()
    for path in entries:
        try:
            if now - path.stat().st_mtime > _STALE_AFTER_S:
                path.rmdir()
        except OSError:
            pass


class RunCgroups:
    """The cgroups of one run: created with their limits, watched, killed, removed."""

    def __init__(self, support: CgroupSupport, limits: Limits) -> None:
        name = f"{_RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.dirs: list[Path] = []
        self._pids: Path | None = None
        self._memory: Path | None = None
        try:
            if support.pids_parent is not None and limits.processes is not None:
                self._pids = self._create(support.pids_parent / name)
                (self._pids / "pids.max").write_text(str(limits.processes))
            if support.memory_parent is not None and limits.memory_bytes is not None:
                if support.memory_parent == support.pids_parent and self._pids is not None:
                    self._memory = self._pids
                else:
                    self._memory = self._create(support.memory_parent / name)
                (self._memory / "memory.max").write_text(str(limits.memory_bytes))
                if (self._memory / "memory.swap.max").exists():
                    (self._memory / "memory.swap.max").write_text("0")
        except OSError:
            self.remove()
            raise

    def _create(self, path: Path) -> Path:
        path.mkdir()
        self.dirs.append(path)
        return path

    @property
    def limits_memory(self) -> bool:
        """True when a memory cgroup (not RLIMIT_AS) enforces the memory limit."""
        return self._memory is not None

    @property
    def limits_processes(self) -> bool:
        return self._pids is not None

    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files the launcher writes its pid into."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def breach(self) -> str | None:
        """``"processes"`` or ``"memory"`` once a limit was hit, else None."""
        if self._pids is not None and _event(self._pids / "pids.events", "max") > 0:
            return "processes"
        if self._memory is not None and _event(self._memory / "memory.events", "oom_kill") > 0:
            return "memory"
        return None

    def kill_all(self) -> None:
        """SIGKILL every process in the run's cgroups (repeats: a fork bomb refills it)."""
        for d in self.dirs:
            kill_file = d / "cgroup.kill"
            if kill_file.exists():
                try:
                    kill_file.write_text("1")
                    continue
                except OSError:
                    pass
            for _ in range(200):
                pids = _members(d)
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass

    def remove(self) -> None:
        """Delete the run's cgroups once their processes are gone."""
        for d in reversed(self.dirs):
            _rmdir(d)
        self.dirs.clear()


def _rmdir(path: Path) -> None:
    deadline = time.monotonic() + 2.0
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # EBUSY while killed processes are still exiting
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)


def _members(path: Path) -> list[int]:
    try:
        return [int(x) for x in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _event(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
