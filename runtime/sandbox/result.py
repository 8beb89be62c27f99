"""What one sandboxed run produced, and the errors that stop a run before it starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

KilledBy = Literal["timeout", "memory", "output", "processes", "signal"]


class SandboxError(Exception):
    """A request that cannot run (missing work dir, bad path); the message says why."""


class SandboxUnavailable(SandboxError):
    """The chosen backend does not work on this machine; the message says what to do."""


@dataclass(frozen=True)
class RunResult:
    """The account of one run: its output and, when it did not end by itself, why."""

    exit_code: int
    """The command's exit status; ``128 + n`` when a signal ``n`` ended it."""
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool
    """True when the wall-clock limit ended the run."""
    killed_by: KilledBy | None
    """Which limit ended the run. ``"memory"`` also covers an allocation that failed under
    the address-space limit (the process then exits by itself with an out-of-memory error)."""
    stdout_truncated: bool
    stderr_truncated: bool
    backend: str
    reason: str = ""
    """One line saying why the run ended abnormally; empty when it exited by itself."""
    command: str = ""
    output_bytes: int = 0
    """Bytes the command wrote to stdout and stderr together (before truncation)."""

    @property
    def ok(self) -> bool:
        """Exited with status 0 and no limit ended it."""
        return self.exit_code == 0 and self.killed_by is None

    def summary(self) -> str:
        """One line: how the run ended, how long it took, which backend ran it."""
        head = f"exit {self.exit_code}"
        if self.killed_by is not None:
            head = f"killed ({self.killed_by})"
        elif self.reason:
            head = f"exit {self.exit_code}: {self.reason}"
        tail = f" in {self.duration_s:.2f}s [{self.backend}]"
        if self.killed_by is not None and self.reason:
            return f"{head}{tail}: {self.reason}"
        return head + tail

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--json`` and the servers)."""
        data = asdict(self)
        data["ok"] = self.ok
        data["summary"] = self.summary()
        return data
