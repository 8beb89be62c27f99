"""Every bad input of the issue, on the real backends: each ends with a clear killed_by or
error, hangs nothing and leaves nothing behind."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from runtime.sandbox import Limits, Sandbox, SandboxError

PY = sys.executable


def test_infinite_loop_is_killed_at_the_timeout(any_sandbox: Sandbox, workdir: Path,
                                                tight: Limits) -> None:
    res = any_sandbox.run([PY, "-c", "while True: pass"], cwd=workdir, timeout=1, limits=tight)
    assert res.timed_out and res.killed_by == "timeout"
    assert res.exit_code != 0 and "1s" in res.reason


def test_fork_bomb_is_contained_and_leaves_no_process(any_sandbox: Sandbox, workdir: Path,
                                                      tight: Limits, procs: SimpleNamespace) -> None:
    mark = procs.marker()
    bomb = f"import os, time\nwhile True:\n    try: os.fork()\n    except OSError: time.sleep(0.01)\n# {mark}"
    res = any_sandbox.run([PY, "-c", bomb], cwd=workdir, timeout=15, limits=tight)
    assert res.killed_by == "processes", res.summary()
    assert not procs.settle_alive(mark)


def test_allocating_10_gb_hits_the_memory_limit(any_sandbox: Sandbox, workdir: Path,
                                                tight: Limits) -> None:
    res = any_sandbox.run([PY, "-c", "b = bytearray(10 * 1024**3); print(len(b))"],
                          cwd=workdir, limits=tight)
    assert res.killed_by == "memory", res.summary()
    assert res.exit_code != 0 and "10737418240" not in res.stdout


def test_printing_1_gb_is_stopped_by_the_output_limit(any_sandbox: Sandbox, workdir: Path,
                                                      tight: Limits) -> None:
    script = ("import sys\nchunk = b'x' * (1 << 20)\n"
              "for _ in range(1024): sys.stdout.buffer.write(chunk)\n")
    res = any_sandbox.run([PY, "-c", script], cwd=workdir, limits=tight)
    assert res.killed_by == "output"
    assert res.stdout_truncated and "bytes of stdout omitted" in res.stdout
    assert len(res.stdout) < tight.output_bytes + 200
    assert res.output_bytes < 1024 * 1024 * 1024


def test_background_process_is_gone_after_return(any_sandbox: Sandbox, workdir: Path,
                                                 tight: Limits, procs: SimpleNamespace) -> None:
    mark = procs.marker()
    res = any_sandbox.run(f"{PY} -c 'import time; time.sleep(60)' {mark} & echo started",
                          cwd=workdir, shell=True, limits=tight)
    assert res.ok and res.stdout.strip() == "started"
    assert not procs.settle_alive(mark)


def test_background_process_that_closes_its_output_is_gone_too(any_sandbox: Sandbox, workdir: Path,
                                                               tight: Limits, procs: SimpleNamespace) -> None:
    mark = procs.marker()
    cmd = f"{PY} -c 'import time; time.sleep(60)' {mark} </dev/null >/dev/null 2>&1 & echo started"
    res = any_sandbox.run(cmd, cwd=workdir, shell=True, limits=tight)
    assert res.ok
    assert not procs.settle_alive(mark)


def test_missing_command_is_exit_127_with_a_reason(any_sandbox: Sandbox, workdir: Path,
                                                   tight: Limits) -> None:
    res = any_sandbox.run(["no-such-command-xyz", "arg"], cwd=workdir, limits=tight)
    assert res.exit_code == 127
    assert "no-such-command-xyz" in res.reason and "not found" in res.reason


def test_non_utf8_output_is_decoded_with_replacement(any_sandbox: Sandbox, workdir: Path,
                                                     tight: Limits) -> None:
    lines: list[tuple[str, str]] = []
    res = any_sandbox.run([PY, "-c", r"import sys; sys.stdout.buffer.write(b'ok \xff\xfe end\n')"],
                          cwd=workdir, limits=tight, on_output=lambda s, ln: lines.append((s, ln)))
    assert res.ok
    assert res.stdout == "ok \ufffd\ufffd end\n"
    assert lines == [("stdout", "ok \ufffd\ufffd end")]


def test_shell_metacharacters_in_argv_are_not_interpreted(any_sandbox: Sandbox, workdir: Path,
                                                          tight: Limits) -> None:
    evil = "$(touch pwned1); `touch pwned2` | touch pwned3; touch pwned4 > x && echo $HOME"
    res = any_sandbox.run(["echo", evil], cwd=workdir, limits=tight)
    assert res.ok and res.stdout == evil + "\n"
    assert list(workdir.iterdir()) == []


def test_a_string_runs_without_a_shell_unless_asked(any_sandbox: Sandbox, workdir: Path,
                                                    tight: Limits) -> None:
    plain = any_sandbox.run("echo '$HOME' $(id)", cwd=workdir, limits=tight)
    assert plain.stdout == "$HOME $(id)\n"
    shelled = any_sandbox.run("echo $((6 * 7))", cwd=workdir, shell=True, limits=tight)
    assert shelled.stdout == "42\n"
    with pytest.raises(SandboxError, match="one string"):
        any_sandbox.run(["echo", "x"], cwd=workdir, shell=True)


def test_missing_work_dir_or_cwd_is_a_clear_error(tmp_path: Path, workdir: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SandboxError, match="work directory does not exist"):
        Sandbox(workdir=missing).run(["true"], cwd=workdir)
    with pytest.raises(SandboxError, match="working directory does not exist"):
        Sandbox(workdir=workdir).run(["true"], cwd=missing)
    with pytest.raises(SandboxError, match="outside the work directory"):
        Sandbox(workdir=workdir).run(["true"], cwd=tmp_path)
    with pytest.raises(SandboxError, match="empty command"):
        Sandbox(workdir=workdir).run([], cwd=workdir)
