"""``run_command``: a shell command in the sandbox, with an undo point taken first so that
``engram undo`` also restores what the command changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.undo import UndoStore
from runtime.sandbox import Sandbox, SandboxError

_TAIL_CHARS = 4000


@dataclass(frozen=True)
class CommandOutcome:
    command: str
    exit_code: int
    summary: str
    text: str
    """What the model reads: how it ended and the output's tail."""
    undo_point: str


async def run_command(sandbox: Sandbox, root: Path, undo: UndoStore, command: str,
                      timeout: float) -> CommandOutcome:
    point = undo.snapshot(f"before command: {command[:80]}")
    try:
        result = await sandbox.arun(command, cwd=root, timeout=timeout, shell=True)
    except SandboxError as exc:
        return CommandOutcome(command, -1, f"did not run: {exc}", f"the command did not run: {exc}",
                              point.id)
    parts = [f"$ {command}", result.summary()]
    for name, text, cut in (("stdout", result.stdout, result.stdout_truncated),
                            ("stderr", result.stderr, result.stderr_truncated)):
        if text.strip():
            shown = text[-_TAIL_CHARS:]
            mark = " (tail)" if cut or len(text) > _TAIL_CHARS else ""
            parts.append(f"{name}{mark}:\n{shown.rstrip()}")
    return CommandOutcome(command, result.exit_code, result.summary(), "\n".join(parts), point.id)
