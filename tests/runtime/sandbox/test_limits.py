"""Limits other than the bad inputs: file size, CPU time; the async API; backend choice."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from runtime.sandbox import Limits, Sandbox, SandboxSettings, SandboxUnavailable

PY = sys.executable


def test_file_size_limit(any_sandbox: Sandbox, workdir: Path, tight: Limits) -> None:
    limits = replace(tight, file_size_bytes=1024 * 1024)
    res = any_sandbox.run(["head", "-c", "3000000", "/dev/zero"], cwd=workdir, limits=limits)
    assert res.ok  # to a pipe: not a file
    res = any_sandbox.run("head -c 5000000 /dev/zero > big.bin", cwd=workdir, shell=True,
                          limits=limits)
    assert res.exit_code != 0
    assert (workdir / "big.bin").stat().st_size <= 1024 * 1024
    assert res.killed_by == "signal" and "file size limit" in res.reason


def test_cpu_limit(any_sandbox: Sandbox, workdir: Path, tight: Limits) -> None:
    res = any_sandbox.run([PY, "-c", "while True: pass"], cwd=workdir,
                          limits=replace(tight, cpu_s=1, wall_s=20))
    assert not res.timed_out
    assert res.killed_by == "signal" and "CPU time limit" in res.reason


def test_exit_code_and_stderr_are_reported(any_sandbox: Sandbox, workdir: Path) -> None:
    res = any_sandbox.run("echo out; echo err >&2; exit 7", cwd=workdir, shell=True)
    assert (res.exit_code, res.stdout, res.stderr) == (7, "out\n", "err\n")
    assert res.killed_by is None and not res.ok
    assert res.summary().startswith("exit 7")
    assert res.to_dict()["ok"] is False


async def test_arun_streams_lines_on_the_loop_in_order(any_sandbox: Sandbox, workdir: Path) -> None:
    loop = asyncio.get_running_loop()
    seen: list[tuple[str, str]] = []

    def on_output(stream: str, line: str) -> None:
        assert asyncio.get_running_loop() is loop
        seen.append((stream, line))

    res = await any_sandbox.arun([PY, "-c", "import sys\nfor i in range(5): print(i)\n"
                                  "print('done', file=sys.stderr)"],
                                 cwd=workdir, on_output=on_output)
    assert res.ok
    assert [ln for s, ln in seen if s == "stdout"] == ["0", "1", "2", "3", "4"]
    assert ("stderr", "done") in seen


async def test_cancelling_arun_kills_the_run(any_sandbox: Sandbox, workdir: Path,
                                             procs: SimpleNamespace) -> None:
    mark = procs.marker()
    task = asyncio.create_task(any_sandbox.arun(
        [PY, "-c", "import time; time.sleep(60)", mark], cwd=workdir))
    for _ in range(200):
        if procs.alive(mark):
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not procs.settle_alive(mark)


async def test_concurrent_runs_do_not_mix_output(any_sandbox: Sandbox, workdir: Path) -> None:
    runs = [any_sandbox.arun([PY, "-c", f"print('run-{i}' * 3)"], cwd=workdir) for i in range(6)]
    results = await asyncio.gather(*runs)
    assert [r.stdout for r in results] == [f"run-{i}" * 3 + "\n" for i in range(6)]


def test_auto_refuses_without_bwrap_and_says_how_to_opt_out(
        workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runtime.sandbox.bwrap.shutil.which", lambda name: None)
    sandbox = Sandbox(SandboxSettings(backend="auto"), workdir)
    with pytest.raises(SandboxUnavailable, match='backend = "local"'):
        sandbox.run(["true"], cwd=workdir)


def test_local_backend_is_opt_in_with_a_warning(local_sandbox: Sandbox, workdir: Path) -> None:
    res = local_sandbox.run("echo $HOME", cwd=workdir, shell=True)
    assert res.backend == "local"
    assert local_sandbox.warning and "does not isolate" in local_sandbox.warning
    scratch = Path(res.stdout.strip())
    assert scratch != Path.home() and not scratch.exists()  # removed after the run


def test_bad_timeout_is_rejected(local_sandbox: Sandbox, workdir: Path) -> None:
    from runtime.sandbox import SandboxError
    with pytest.raises(SandboxError, match="timeout"):
        local_sandbox.run(["true"], cwd=workdir, timeout=0)


@pytest.mark.parametrize("backend", ["bwrap", "local"])
def test_fork_bomb_without_cgroups_is_stopped_by_the_process_watchdog(
        backend: str, workdir: Path, tight: Limits, procs: SimpleNamespace,
        bwrap_problem: str | None) -> None:
    if backend == "bwrap" and bwrap_problem is not None:
        pytest.skip(f"bwrap unavailable here: {bwrap_problem}")
    sandbox = Sandbox(SandboxSettings.model_validate({"backend": backend, "cgroups": "off"}),
                      workdir)
    mark = procs.marker()
    bomb = f"import os, time\nwhile True:\n    try: os.fork()\n    except OSError: time.sleep(0.01)\n# {mark}"
    res = sandbox.run([PY, "-c", bomb], cwd=workdir, timeout=15, limits=tight)
    assert res.killed_by == "processes" and "process limit of 64" in res.reason
    assert not procs.settle_alive(mark, wait_s=2)
