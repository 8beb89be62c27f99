"""Settings of the sandbox (the ``[sandbox]`` table of config.toml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SandboxSettings(BaseModel):
    """Which isolation backend runs commands, and its default limits."""

    backend: Literal["auto", "bwrap", "docker", "local"] = "auto"
    """``auto`` picks bwrap when it works here; ``local`` (no isolation) only on request."""

    timeout_s: float = Field(default=600.0, gt=0)
    """Default wall-clock limit of one command."""

    test_command: str | None = None
    """Overrides the detected test command of the project (a shell command line)."""

    cpu_s: float | None = Field(default=None, gt=0)
    """CPU seconds per process (RLIMIT_CPU); ``None`` leaves only the wall-clock limit."""

    memory_mb: int | None = Field(default=4096, gt=0)
    """Memory per run: a memory cgroup when one is writable, else address space per process
    (RLIMIT_AS). ``None`` for no limit."""

    processes: int | None = Field(default=512, gt=0)
    """Processes and threads alive at once in one run (pids cgroup, else a watchdog)."""

    file_size_mb: int | None = Field(default=1024, gt=0)
    """Largest file a command may write (RLIMIT_FSIZE)."""

    output_kb: int = Field(default=1024, gt=0)
    """Captured output kept per stream (head and tail, with a marker in between)."""

    output_kill_mb: int | None = Field(default=64, gt=0)
    """Total output after which the run is killed (``killed_by = "output"``)."""

    network: bool = False
    """Whether commands may use the network by default (bwrap and docker only)."""

    writable: list[str] = Field(default_factory=list)
    """Extra host paths a sandboxed command may write, besides the work directory."""

    readonly: list[str] = Field(default_factory=list)
    """Extra host paths visible read-only (toolchains under the home directory, e.g.
    ``~/.cargo`` or ``~/.rustup``); the system directories are always visible."""

    env_allow: list[str] = Field(default_factory=list)
    """Extra environment variable names passed into the sandbox (none carry secrets by
    default: the environment is rebuilt from an allow-list)."""

    docker_image: str = "python:3.11-slim"
    """Image the ``docker`` backend runs commands in."""

    cgroups: Literal["auto", "off"] = "auto"
    """``auto`` uses a writable pids/memory cgroup for limits when the probe finds one."""
