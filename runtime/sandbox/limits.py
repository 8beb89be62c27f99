"""Resource limits of one run, and how they become rlimits of the child process."""

from __future__ import annotations

import resource
import shutil
from dataclasses import dataclass, replace
from typing import Callable

from runtime.sandbox.config import SandboxSettings

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on one run. ``None`` means unlimited for that resource."""

    wall_s: float | None = 600.0
    """Wall-clock seconds; the whole run (process group / namespace) is killed after."""
    cpu_s: float | None = None
    """CPU seconds per process (RLIMIT_CPU)."""
    memory_bytes: int | None = 4096 * MIB
    """Memory of the run (cgroup) or address space per process (RLIMIT_AS)."""
    processes: int | None = 512
    """Processes and threads alive at once."""
    file_size_bytes: int | None = 1024 * MIB
    """Largest file written (RLIMIT_FSIZE)."""
    output_bytes: int = 1 * MIB
    """Output kept per stream: the first and last halves, a marker in between."""
    output_kill_bytes: int | None = 64 * MIB
    """Total output (both streams) after which the run is killed."""

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> Limits:
        """The default limits a project's settings ask for."""
        return cls(
            wall_s=settings.timeout_s,
            cpu_s=settings.cpu_s,
            memory_bytes=settings.memory_mb * MIB if settings.memory_mb else None,
            processes=settings.processes,
            file_size_bytes=settings.file_size_mb * MIB if settings.file_size_mb else None,
            output_bytes=settings.output_kb * 1024,
            output_kill_bytes=settings.output_kill_mb * MIB if settings.output_kill_mb else None,
        )

    def with_timeout(self, timeout: float | None) -> Limits:
        """These limits with the wall-clock limit replaced when ``timeout`` is given."""
        return self if timeout is None else replace(self, wall_s=timeout)


def rlimits(limits: Limits, *, address_space: bool) -> dict[int, int]:
    """The rlimits to set on the child; ``address_space`` is False when a memory cgroup
    enforces the memory limit instead (RLIMIT_AS breaks runtimes that reserve address
    space, so it is the fallback, not the rule)."""
    out: dict[int, int] = {resource.RLIMIT_CORE: 0}
    if limits.cpu_s is not None:
        out[resource.RLIMIT_CPU] = max(1, int(limits.cpu_s + 0.999))
    if limits.memory_bytes is not None and address_space:
        out[resource.RLIMIT_AS] = limits.memory_bytes
    if limits.file_size_bytes is not None:
        out[resource.RLIMIT_FSIZE] = limits.file_size_bytes
    return {res: _within_hard_limit(res, value) for res, value in out.items()}


def _within_hard_limit(res: int, value: int) -> int:
    # an unprivileged process cannot raise its hard limit; asking for more would fail the run
    hard = resource.getrlimit(res)[1]
    if hard == resource.RLIM_INFINITY:
        return value
    return min(value, hard - 1 if res == resource.RLIMIT_CPU else hard)


_PRLIMIT_FLAGS = {
    resource.RLIMIT_CORE: "--core",
    resource.RLIMIT_CPU: "--cpu",
    resource.RLIMIT_AS: "--as",
    resource.RLIMIT_FSIZE: "--fsize",
}


def prlimit_prefix(limits: dict[int, int]) -> list[str] | None:
    """``prlimit --as=N ... --`` (util-linux) to exec before the command, or None when
    prlimit is not installed. Setting rlimits by exec keeps ``preexec_fn`` (unsafe with
    threads) out of the common path."""
    exe = shutil.which("prlimit")
    if exe is None:
        return None
    # soft limit below the hard one so a CPU overrun gets SIGXCPU (reportable) before SIGKILL
    args = []
    for res, value in limits.items():
        if res == resource.RLIMIT_CPU:
            args.append(f"{_PRLIMIT_FLAGS[res]}={value}:{value + 1}")
        else:
            args.append(f"{_PRLIMIT_FLAGS[res]}={value}")
    return [exe, *args, "--"]


def preexec_setter(limits: dict[int, int]) -> Callable[[], None]:
    """A ``preexec_fn`` that sets the rlimits; used only where prlimit is missing."""

    def apply() -> None:
        for res, value in limits.items():
            hard = value + 1 if res == resource.RLIMIT_CPU else value
            resource.setrlimit(res, (value, hard))

    return apply
