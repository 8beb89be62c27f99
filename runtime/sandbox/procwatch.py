"""Counts a run's processes by scanning /proc: the process limit where no pids cgroup is
writable. A sampled count cannot stop a fork from happening, but it bounds how long a fork
bomb runs (one scan interval) before the whole run is killed."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _read_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, session id) of a process, None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # the command name may contain spaces and parentheses; fields resume after the last ')'
    fields = raw[raw.rfind(b")") + 2:].split()
    try:
        return int(fields[1]), int(fields[3])
    except (IndexError, ValueError):
        return None


def _pid_ns(pid: int) -> str | None:
    try:
        return os.readlink(PROC / str(pid) / "ns" / "pid")
    except OSError:
        return None


def _all_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir(PROC) if name.isdigit()]
    except OSError:
        return []


class ProcessWatch:
    """The processes of one run: those in the sandbox's pid namespace (bwrap), or those in
    the session the launcher started (local; a process that calls setsid escapes this)."""

    def __init__(self, leader_pid: int, *, namespaced: bool) -> None:
        self._leader = leader_pid
        self._namespaced = namespaced
        self._own_ns = _pid_ns(os.getpid())
        self._ns: str | None = None

    def members(self) -> list[int]:
        """Pids of the run's live processes (the launcher itself excluded)."""
        pids = _all_pids()
        if not self._namespaced:
            return [p for p in pids if p != self._leader and (_read_stat(p) or (0, 0))[1] == self._leader]
        if self._ns is None:
            self._ns = self._find_namespace(pids)
            if self._ns is None:
                return []
        return [p for p in pids if _pid_ns(p) == self._ns]

    def _find_namespace(self, pids: list[int]) -> str | None:
        for pid in pids:
            stat = _read_stat(pid)
            if stat is not None and stat[0] == self._leader:
                ns = _pid_ns(pid)
                if ns is not None and ns != self._own_ns:
                    return ns
        return None
