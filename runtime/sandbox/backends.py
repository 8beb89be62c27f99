"""What every backend shares: the request it turns into a launch, and the launch itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Protocol

from runtime.sandbox.limits import Limits


@dataclass(frozen=True)
class RunRequest:
    """One validated run: absolute, existing paths; the argv to execute."""

    argv: list[str]
    cwd: Path
    workdir: Path
    writable: tuple[Path, ...]
    readonly: tuple[Path, ...]
    network: bool
    limits: Limits
    host_env: Mapping[str, str]
    env_allow: tuple[str, ...] = ()
    env_overrides: Mapping[str, str] | None = None


@dataclass
class Launch:
    """How the executor starts a run on one backend."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    namespaced: bool
    """Killing the launched process ends every process of the run (a pid namespace)."""
    host_limits: bool = True
    """Apply rlimits and cgroups on this host (False where the backend does it itself)."""
    kill: Callable[[], None] | None = None
    """Extra step to kill the run (a container outlives its client)."""
    cleanup: list[Callable[[], None]] = field(default_factory=list)


class Backend(Protocol):
    """A way to run a command in isolation."""

    name: str

    def probe(self) -> str | None:
        """None when this backend works here, else a one-line reason it does not."""

    def prepare(self, request: RunRequest) -> Launch:
        """The launch for one run."""

    def explain_exit(self, exit_code: int, stderr: str) -> tuple[int, str] | None:
        """Map a backend's own failure (e.g. 'command not found') to (exit code, reason)."""
